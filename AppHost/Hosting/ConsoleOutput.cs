using System.Text;

namespace AppHost.Hosting;

/// <summary>
/// The AppHost's console: every resource's output behind a coloured prefix, and a table of
/// resources, URLs and states. One lock keeps lines from different processes whole.
/// </summary>
internal sealed class ConsoleOutput
{
    private static readonly string[] Palette = ["\e[36m", "\e[35m", "\e[33m", "\e[32m", "\e[34m", "\e[91m", "\e[96m"];
    private const string Reset = "\e[0m";
    private const string Bold = "\e[1m";
    private const string Dim = "\e[2m";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _colours = new(StringComparer.Ordinal);
    private readonly bool _useColour = !Console.IsOutputRedirected
        || Environment.GetEnvironmentVariable("DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION") is "1" or "true";
    private int _prefixWidth = 12;

    public void RegisterResources(IEnumerable<string> names)
    {
        lock (_lock)
        {
            foreach (var name in names)
            {
                _colours.TryAdd(name, Palette[_colours.Count % Palette.Length]);
            }

            _prefixWidth = Math.Max(_prefixWidth, _colours.Keys.Max(n => n.Length) + 9);
        }
    }

    public void WriteResourceLine(string resourceName, string instanceId, string text)
    {
        var prefix = $"{resourceName}-{instanceId[..Math.Min(4, instanceId.Length)]}".PadRight(_prefixWidth);
        lock (_lock)
        {
            Console.Out.WriteLine(_useColour
                ? $"{_colours.GetValueOrDefault(resourceName, Palette[0])}{prefix}{Reset}{Dim}|{Reset} {text}"
                : $"{prefix}| {text}");
        }
    }

    public void WriteAppHostLine(string text, bool isError = false)
    {
        var prefix = "apphost".PadRight(_prefixWidth);
        lock (_lock)
        {
            var writer = isError ? Console.Error : Console.Out;
            writer.WriteLine(_useColour
                ? $"{Bold}{(isError ? "\e[31m" : string.Empty)}{prefix}{Reset}{Dim}|{Reset} {text}"
                : $"{prefix}| {text}");
        }
    }

    public void WriteTable(IReadOnlyList<(string Resource, string State, string Health, string Processes, string Urls)> rows)
    {
        string[] header = ["Resource", "State", "Health", "PIDs", "URLs"];
        var widths = new int[4];
        for (var i = 0; i < 4; i++)
        {
            widths[i] = Math.Max(header[i].Length, rows.Count == 0 ? 0 : rows.Max(r => Column(r, i).Length));
        }

        var table = new StringBuilder();
        table.AppendLine(Row(header[0], header[1], header[2], header[3], header[4], widths));
        foreach (var row in rows)
        {
            table.AppendLine(Row(row.Resource, row.State, row.Health, row.Processes, row.Urls, widths));
        }

        lock (_lock)
        {
            Console.Out.Write(_useColour ? $"{Bold}{table}{Reset}" : table.ToString());
        }
    }

    private static string Column((string Resource, string State, string Health, string Processes, string Urls) row, int index) => index switch
    {
        0 => row.Resource,
        1 => row.State,
        2 => row.Health,
        _ => row.Processes,
    };

    private static string Row(string a, string b, string c, string d, string e, int[] widths) =>
        $"  {a.PadRight(widths[0])}  {b.PadRight(widths[1])}  {c.PadRight(widths[2])}  {d.PadRight(widths[3])}  {e}";
}
