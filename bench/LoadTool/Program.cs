using LoadTool;
using LoadTool.Suite;

// bench/LoadTool: an SSE load tool and the benchmark suite built on it. See bench/README.md.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage.Text);
    return 0;
}

try
{
    var cli = new Cli(args.Skip(1));
    return args[0] switch
    {
        "load" => await Commands.LoadAsync(cli),
        "churn" => await Commands.ChurnAsync(cli),
        "worker" => await Worker.RunAsync(cli),
        "token" => Commands.Token(cli),
        "suite" => await SuiteRunner.RunAsync(cli),
        "report" => ReportCommand.Run(cli),
        _ => throw new ArgumentException($"Unknown command '{args[0]}'. Try --help."),
    };
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine("error: " + ex.Message);
    return 2;
}
