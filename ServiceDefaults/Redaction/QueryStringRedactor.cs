using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace ServiceDefaults.Redaction;

/// <summary>
/// Keeps query values out of text: a URL, a bare query string, or a whole formatted log message. Every value is
/// replaced (<c>?ticket=abc&amp;page=2</c> → <c>?ticket=[redacted]&amp;page=[redacted]</c>) except those of a short
/// allow-list of harmless names (<c>lastEventId=7</c> stays), and a parameter without a value is replaced whole.
/// Names are compared as the server reads them: percent-decoded, <c>+</c> as a space, case-insensitive; so
/// <c>tick%65t</c> is <c>ticket</c>, and <c>lastEvent%49d</c> is as harmless as <c>lastEventId</c>.
/// </summary>
/// <remarks>
/// On top of that, the values of the always-sensitive names (<c>ticket</c>, <c>access_token</c>) are redacted wherever
/// they stand, in any spelling of the name: in text with no <c>?</c> (<c>ticket=abc</c>), and inside a URL that is
/// itself a value, encoded (<c>?probe=%3Fticket%3Dabc</c>).
/// </remarks>
public sealed class QueryStringRedactor
{
    public const string Replacement = "[redacted]";

    // Where a query string inside free text ends: URLs in log lines are followed by a space, a quote or a bracket.
    private static readonly SearchValues<char> QueryEnd = SearchValues.Create(" \t\r\n\"'`<>#");

    private readonly string[] _sensitive;
    private readonly string[] _allowed;
    private readonly Regex? _sensitivePattern;

    /// <param name="sensitiveNames">Redacted everywhere, even when also allowed.</param>
    /// <param name="allowedNames">Harmless names whose values stay readable; every other value is redacted.</param>
    public QueryStringRedactor(IEnumerable<string> sensitiveNames, IEnumerable<string> allowedNames)
    {
        ArgumentNullException.ThrowIfNull(sensitiveNames);
        ArgumentNullException.ThrowIfNull(allowedNames);
        _sensitive = Clean(sensitiveNames);
        _allowed = Clean(allowedNames).Where(name => !_sensitive.Contains(name, StringComparer.OrdinalIgnoreCase)).ToArray();

        if (_sensitive.Length > 0)
        {
            // A name is preceded by the start, a separator, whitespace or their encoded forms (a URL inside a
            // parameter), and followed by '=' or '%3D'. Each of its characters may be percent-encoded, as the server
            // decodes them. The value runs to the next separator.
            var names = string.Join('|', _sensitive.Select(AnySpelling));
            _sensitivePattern = new Regex(
                $@"(?<=(?:^|[?&;\s""'(,]|%3F|%26)(?:{names})(?:=|%3D))[^&#;\s""']*",
                RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled,
                TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>The names whose values are redacted wherever they appear.</summary>
    public IReadOnlyList<string> ParameterNames => _sensitive;

    /// <summary>The names whose values stay readable in query strings.</summary>
    public IReadOnlyList<string> AllowedParameterNames => _allowed;

    /// <summary>Would <see cref="Redact"/> change the text? A cheap character test first, so most log lines cost nothing.</summary>
    public bool MayContainSecret(string? text) =>
        !string.IsNullOrEmpty(text) && MightHaveQuery(text) && !ReferenceEquals(Redact(text), text);

    /// <summary>Redacts every query string in free text (each one starts at a <c>?</c>), and sensitive values anywhere.</summary>
    /// <returns>The same instance when there was nothing to redact.</returns>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!MightHaveQuery(text))
        {
            return text;
        }

        StringBuilder? builder = null;
        var copied = 0;
        var start = text.IndexOf('?', StringComparison.Ordinal);
        while (start >= 0)
        {
            // Later '?' inside this query belong to its values, as the server reads them.
            var length = text.AsSpan(start + 1).IndexOfAny(QueryEnd);
            var end = length < 0 ? text.Length : start + 1 + length;
            var query = text[(start + 1)..end];
            var redacted = RedactPairs(query);
            if (!ReferenceEquals(redacted, query))
            {
                builder ??= new StringBuilder(text.Length);
                builder.Append(text, copied, start + 1 - copied).Append(redacted);
                copied = end;
            }

            start = end < text.Length ? text.IndexOf('?', end) : -1;
        }

        var result = builder is null ? text : builder.Append(text, copied, text.Length - copied).ToString();
        return RedactSensitive(result, text);
    }

    /// <summary>Redacts a bare query string (<c>a=1&amp;b=2</c>, with or without its <c>?</c>), as spans carry it in <c>url.query</c>.</summary>
    /// <returns>The same instance when there was nothing to redact.</returns>
    public string RedactQuery(string query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var mark = query.StartsWith('?') ? 1 : 0;
        var pairs = query[mark..];
        var redacted = RedactPairs(pairs);
        var result = ReferenceEquals(redacted, pairs) ? query : string.Concat(query.AsSpan(0, mark), redacted);
        return RedactSensitive(result, query);
    }

    /// <summary>One query string without its '?': every value of a name off the allow-list is replaced.</summary>
    private string RedactPairs(string query)
    {
        if (query.Length == 0)
        {
            return query;
        }

        var parts = query.Split('&');
        var changed = false;
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0)
            {
                continue;
            }

            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? part : part[..equals];
            if (IsAllowed(name) || (equals >= 0 && equals == part.Length - 1))
            {
                // A harmless name, or a name with an empty value: nothing to hide.
                continue;
            }

            parts[i] = equals < 0 ? Replacement : string.Concat(name, "=", Replacement);
            changed = true;
        }

        return changed ? string.Join('&', parts) : query;
    }

    private bool IsAllowed(string rawName)
    {
        if (_allowed.Length == 0)
        {
            return false;
        }

        // As the server decodes a name: '+' is a space, then percent-decoding.
        var name = rawName.Contains('%', StringComparison.Ordinal) || rawName.Contains('+', StringComparison.Ordinal)
            ? Uri.UnescapeDataString(rawName.Replace('+', ' '))
            : rawName;
        return _allowed.Contains(name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The sensitive names' values anywhere in <paramref name="text"/>; returns <paramref name="original"/> if nothing changed.</summary>
    private string RedactSensitive(string text, string original)
    {
        if (_sensitivePattern is null || !_sensitivePattern.IsMatch(text))
        {
            return text;
        }

        var redacted = _sensitivePattern.Replace(text, static match => match.Length == 0 || match.Value == Replacement ? match.Value : Replacement);
        return redacted == original ? original : redacted;
    }

    private static bool MightHaveQuery(string text) =>
        text.Contains('?', StringComparison.Ordinal) || text.Contains('=', StringComparison.Ordinal) || text.Contains("%3D", StringComparison.OrdinalIgnoreCase);

    private static string[] Clean(IEnumerable<string> names) => names
        .Where(name => !string.IsNullOrWhiteSpace(name))
        .Select(name => name.Trim())
        .Distinct(StringComparer.OrdinalIgnoreCase)
        .ToArray();

    /// <summary>A pattern for the name with each character literal or percent-encoded (<c>t</c>, <c>%74</c>, <c>%54</c>).</summary>
    private static string AnySpelling(string name)
    {
        var pattern = new StringBuilder();
        foreach (var c in name)
        {
            var forms = new SortedSet<string>(StringComparer.OrdinalIgnoreCase) { Regex.Escape(c.ToString()) };
            if (c < 0x80)
            {
                forms.Add($"%{(int)char.ToLowerInvariant(c):X2}");
                forms.Add($"%{(int)char.ToUpperInvariant(c):X2}");
            }

            pattern.Append("(?:").AppendJoin('|', forms).Append(')');
        }

        return pattern.ToString();
    }
}
