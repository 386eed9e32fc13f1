using System.Collections;

namespace Edge.Proxy.Logging;

/// <summary>
/// Wraps the host's <see cref="ILoggerFactory"/> so that no log line, from any category or provider, carries the
/// value of a sensitive query parameter. It covers lines the edge does not own: YARP's "Proxying to {targetUrl}"
/// and ASP.NET Core's "Request starting"/"Request finished", which both print the full query string.
/// </summary>
public sealed class RedactingLoggerFactory(ILoggerFactory inner, QueryStringRedactor redactor) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), redactor);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    private sealed class RedactingLogger(ILogger inner, QueryStringRedactor redactor) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            if (!NeedsRedaction(state, exception, formatter))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            // Both forms are redacted: the formatted message (console) and the structured values (OTLP attributes).
            var message = redactor.Redact(formatter(state, exception));
            var redacted = new RedactedState(message, state as IReadOnlyList<KeyValuePair<string, object?>>, redactor);
            inner.Log(logLevel, eventId, redacted, exception, static (s, _) => s.Message);
        }

        private bool NeedsRedaction<TState>(TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                // A message is made from its template and these values, so checking the values is enough.
                for (var i = 0; i < values.Count; i++)
                {
                    if (values[i].Value is { } value && !IsPlain(value) && redactor.MayContainSecret(value.ToString()))
                    {
                        return true;
                    }
                }

                return false;
            }

            return redactor.MayContainSecret(formatter(state, exception));
        }
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
            : values.Select(pair => pair.Value is { } value && !IsPlain(value) && pair.Key != "{OriginalFormat}"
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
