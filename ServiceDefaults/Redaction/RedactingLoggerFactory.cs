using System.Collections;
using Microsoft.Extensions.Logging;

namespace ServiceDefaults.Redaction;

/// <summary>
/// Wraps the host's <see cref="ILoggerFactory"/> so that no log entry, from any category or provider, carries a query
/// value that is not on the allow-list (<see cref="QueryStringRedactor"/>): not the formatted message, not the structured values (OTLP attributes),
/// not the scopes, not the exception. It covers lines the services do not own: ASP.NET Core's "Request starting" /
/// "Request finished", YARP's "Proxying to {targetUrl}", Kestrel's bad-request lines, which all print full URLs.
/// </summary>
public sealed class RedactingLoggerFactory(ILoggerFactory inner, QueryStringRedactor redactor) : ILoggerFactory
{
    private const string OriginalFormatKey = "{OriginalFormat}";

    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), redactor);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    private sealed class RedactingLogger(ILogger inner, QueryStringRedactor redactor) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            if (Values(state) is { } values)
            {
                return HasSecret(values, redactor)
                    ? inner.BeginScope(new RedactedState(redactor.Redact(state.ToString() ?? string.Empty), values, redactor))
                    : inner.BeginScope(state);
            }

            var text = state.ToString();
            return redactor.MayContainSecret(text) ? inner.BeginScope(redactor.Redact(text!)) : inner.BeginScope(state);
        }

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            var safeException = exception is not null && redactor.MayContainSecret(exception.ToString())
                ? new RedactedException(exception, redactor)
                : exception;

            if (!NeedsRedaction(state, exception, formatter))
            {
                inner.Log(logLevel, eventId, state, safeException, safeException == exception ? formatter : (s, _) => formatter(s, exception));
                return;
            }

            // Both forms are redacted: the formatted message (console) and the structured values (OTLP attributes).
            var message = redactor.Redact(formatter(state, exception));
            var redacted = new RedactedState(message, Values(state), redactor);
            inner.Log(logLevel, eventId, redacted, safeException, static (s, _) => s.Message);
        }

        private bool NeedsRedaction<TState>(TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Values(state) is { } values
                // A message is made from its template and these values, so checking the values is enough, unless the
                // template itself starts a query ("{Url}?{Query}").
                ? HasSecret(values, redactor) || (TemplateStartsQuery(values) && redactor.MayContainSecret(formatter(state, exception)))
                : redactor.MayContainSecret(formatter(state, exception));
    }

    /// <summary>The structured values of a log state or scope, as exporters read them (any key/value sequence).</summary>
    private static IReadOnlyList<KeyValuePair<string, object?>>? Values<TState>(TState state) => state switch
    {
        IReadOnlyList<KeyValuePair<string, object?>> list => list,
        IEnumerable<KeyValuePair<string, object?>> sequence => [.. sequence],
        _ => null,
    };

    private static bool TemplateStartsQuery(IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        for (var i = values.Count - 1; i >= 0; i--)
        {
            if (values[i].Key == OriginalFormatKey)
            {
                return values[i].Value is string template && template.Contains('?', StringComparison.Ordinal);
            }
        }

        return false;
    }

    private static bool HasSecret(IReadOnlyList<KeyValuePair<string, object?>> values, QueryStringRedactor redactor)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i].Value is { } value && !IsPlain(value) && redactor.MayContainSecret(value.ToString()))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Values that cannot hold a query string, so need no check.</summary>
    private static bool IsPlain(object value) =>
        value is bool or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal
            or char or Enum or DateTime or DateTimeOffset or TimeSpan or Guid;

    /// <summary>The redacted copy of a log entry's state; the original message template is kept.</summary>
    private sealed class RedactedState(string message, IReadOnlyList<KeyValuePair<string, object?>>? values, QueryStringRedactor redactor)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _values = values is null
            ? []
            : values.Select(pair => pair.Value is { } value && !IsPlain(value) && pair.Key != OriginalFormatKey
                ? new KeyValuePair<string, object?>(pair.Key, redactor.Redact(value.ToString() ?? string.Empty))
                : pair).ToArray();

        public string Message => message;

        public int Count => _values.Length;

        public KeyValuePair<string, object?> this[int index] => _values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => message;
    }
}

/// <summary>
/// Stands in for a logged exception whose text (message, inner exceptions, data) mentions a sensitive query
/// value: same type name and stack trace, redacted text. Console and OTLP exporters read exactly these members.
/// </summary>
public sealed class RedactedException : Exception
{
    private readonly string _text;
    private readonly string? _stackTrace;

    public RedactedException(Exception original, QueryStringRedactor redactor)
        : base(redactor?.Redact((original ?? throw new ArgumentNullException(nameof(original))).Message) ?? throw new ArgumentNullException(nameof(redactor)))
    {
        OriginalType = original.GetType().FullName ?? original.GetType().Name;
        _text = redactor.Redact(original.ToString());
        _stackTrace = original.StackTrace;
        HResult = original.HResult;
    }

    public RedactedException()
    {
        OriginalType = typeof(RedactedException).FullName!;
        _text = string.Empty;
    }

    public RedactedException(string message)
        : base(message)
    {
        OriginalType = typeof(RedactedException).FullName!;
        _text = message;
    }

    public RedactedException(string message, Exception innerException)
        : base(message, innerException)
    {
        OriginalType = typeof(RedactedException).FullName!;
        _text = message;
    }

    /// <summary>The full name of the exception type that was redacted.</summary>
    public string OriginalType { get; }

    public override string? StackTrace => _stackTrace;

    public override string ToString() => _text;
}
