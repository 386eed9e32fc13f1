using System.Text.RegularExpressions;

namespace ServiceDefaults.Redaction;

/// <summary>
/// Replaces the values of sensitive query parameters (<c>?ticket=abc</c> → <c>?ticket=[redacted]</c>) in any
/// text: a URL, a bare query string, or a whole formatted log message.
/// </summary>
public sealed class QueryStringRedactor
{
    public const string Replacement = "[redacted]";

    private readonly string[] _names;
    private readonly Regex _pattern;

    public QueryStringRedactor(IEnumerable<string> parameterNames)
    {
        ArgumentNullException.ThrowIfNull(parameterNames);
        _names = parameterNames
            .Where(name => !string.IsNullOrWhiteSpace(name))
            .Select(name => name.Trim())
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToArray();

        // A name is preceded by the start, '?', '&', ';', whitespace or their encoded forms (a URL inside a
        // parameter), and followed by '=' or '%3D'. The value runs to the next separator.
        var names = string.Join('|', _names.Select(Regex.Escape));
        _pattern = new Regex(
            $@"(?<=(?:^|[?&;\s]|%3F|%26)(?:{names})(?:=|%3D))[^&#;\s""']*",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled,
            TimeSpan.FromSeconds(1));
    }

    /// <summary>The parameter names whose values are redacted.</summary>
    public IReadOnlyList<string> ParameterNames => _names;

    /// <summary>Cheap test before the regex: does the text mention a sensitive parameter at all?</summary>
    public bool MayContainSecret(string? text)
    {
        if (string.IsNullOrEmpty(text) || _names.Length == 0)
        {
            return false;
        }

        foreach (var name in _names)
        {
            if (text.Contains(name, StringComparison.OrdinalIgnoreCase))
            {
                return _pattern.IsMatch(text);
            }
        }

        return false;
    }

    public string Redact(string text) => MayContainSecret(text) ? _pattern.Replace(text, Replacement) : text;
}
