using System.Globalization;

namespace LoadTool;

/// <summary>The one argument parser: <c>--name value</c>, <c>--name=value</c>, <c>--flag</c>; an option nobody reads is an error (<see cref="EnsureAllUsed"/>).</summary>
public sealed class Cli
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public Cli(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{arg}'.");

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var (name, value) = eq > 0 ? (arg[..eq], arg[(eq + 1)..])
                : i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal) ? (arg, list[++i])
                : (arg, null);
            if (value is null)
            {
                _flags.Add(name);
            }
            else
            {
                (_values.TryGetValue(name, out var values) ? values : _values[name] = []).Add(value);
            }
        }
    }

    public bool Flag(string name) => Touch(name)._flags.Contains(name);
    public string? Value(string name) => Touch(name)._values.TryGetValue(name, out var v) ? v[^1] : null;
    public string Value(string name, string fallback) => Value(name) ?? fallback;
    public IReadOnlyList<string> All(string name) => Touch(name)._values.TryGetValue(name, out var v) ? v : [];

    public int IntValue(string name, int fallback, int min = 0, int max = int.MaxValue) =>
        (int)Number(name, fallback, min, max);

    public double DoubleValue(string name, double fallback, double min = 0, double max = double.MaxValue) =>
        Number(name, fallback, min, max);

    public int[] Ints(string name, int[] fallback) => Value(name) is { } text ? [.. List(text).Select(s => (int)Parse(name, s))] : fallback;
    public double[] Doubles(string name, double[] fallback) => Value(name) is { } text ? [.. List(text).Select(s => Parse(name, s))] : fallback;
    public string[] Names(string name, string[] fallback) => Value(name) is { } text ? List(text) : fallback;

    public void EnsureAllUsed()
    {
        var unused = _values.Keys.Concat(_flags).Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unused.Count > 0) throw new ArgumentException("Unknown option(s): " + string.Join(", ", unused));
    }

    private Cli Touch(string name)
    {
        _read.Add(name);
        return this;
    }

    private static string[] List(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static double Parse(string name, string text) =>
        double.TryParse(text.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture, out var value)
            ? value : throw new ArgumentException($"{name}: '{text}' is not a number.");

    private double Number(string name, double fallback, double min, double max)
    {
        var value = Value(name) is { } text ? Parse(name, text) : fallback;
        return value >= min && value <= max ? value : throw new ArgumentException($"{name} must be within {min}..{max}.");
    }
}
