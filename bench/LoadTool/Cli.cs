using System.Globalization;

namespace LoadTool;

/// <summary>
/// <c>--name value</c> and <c>--flag</c> arguments. Every option is looked up by name; <see cref="Unused"/> lists the
/// ones nobody asked for, so a typo is an error instead of a silently ignored setting.
/// </summary>
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
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{arg}'.");
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                Add(arg[..eq], arg[(eq + 1)..]);
            }
            else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                Add(arg, list[++i]);
            }
            else
            {
                _flags.Add(arg);
            }
        }
    }

    public bool Flag(string name)
    {
        _read.Add(name);
        return _flags.Contains(name);
    }

    public string? Value(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var v) ? v[^1] : null;
    }

    public string Value(string name, string fallback) => Value(name) ?? fallback;

    public IReadOnlyList<string> All(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var v) ? v : [];
    }

    public int IntValue(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = Value(name);
        if (text is null)
        {
            return fallback;
        }

        var value = int.Parse(text.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be within {min}..{max}.");
        }

        return value;
    }

    public double DoubleValue(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        var text = Value(name);
        if (text is null)
        {
            return fallback;
        }

        var value = double.Parse(text, CultureInfo.InvariantCulture);
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be within {min}..{max}.");
        }

        return value;
    }

    public int[] Ints(string name, int[] fallback) =>
        Value(name) is { } text
            ? [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture))]
            : fallback;

    public double[] Doubles(string name, double[] fallback) =>
        Value(name) is { } text
            ? [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture))]
            : fallback;

    public IEnumerable<string> Unused() =>
        _values.Keys.Concat(_flags).Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal);

    public void EnsureAllUsed()
    {
        var unused = Unused().ToList();
        if (unused.Count > 0)
        {
            throw new ArgumentException("Unknown option(s): " + string.Join(", ", unused));
        }
    }

    private void Add(string name, string value)
    {
        if (!_values.TryGetValue(name, out var list))
        {
            _values[name] = list = [];
        }

        list.Add(value);
    }
}
