using LoadTool;

// bench/LoadTool: the SSE load tool and the benchmark suite built on it. See bench/README.md.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Write(Commands.Usage);
    return 0;
}

try
{
    var cli = new Cli(args.Skip(1));
    return args[0] switch
    {
        "suite" => await SuiteRunner.RunAsync(cli),
        "report" => SuiteRunner.Report(cli),
        "worker" => await Workers.RunWorkerAsync(),
        "emitter" => await Commands.EmitAsync(cli),
        _ => throw new ArgumentException($"Unknown command '{args[0]}'. Try --help."),
    };
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine("error: " + ex.Message);
    return 2;
}
