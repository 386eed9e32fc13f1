using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>
/// Keeps every warning and error the app logs, so tests can assert that nothing went wrong quietly, and
/// everything any exporter could see of every entry (message, structured values, scopes, exception) in
/// <see cref="Everything"/>, for leak tests.
/// </summary>
public sealed class LogSink : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider? _scopes;

    public ConcurrentQueue<string> Entries { get; } = new();

    /// <summary>Every entry at every level that passed the app's log filters, as text.</summary>
    public ConcurrentQueue<string> Everything { get; } = new();

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public IEnumerable<string> Errors => Entries.Where(e => e.StartsWith("Error", StringComparison.Ordinal) || e.StartsWith("Critical", StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new SinkLogger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class SinkLogger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = $"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}";
            if (logLevel >= LogLevel.Warning)
            {
                sink.Entries.Enqueue(text);
            }

            var everything = new System.Text.StringBuilder(text);
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    everything.Append(' ').Append(key).Append('=').Append(value);
                }
            }

            sink._scopes?.ForEachScope((scope, builder) => builder.Append(" scope:").Append(scope), everything);
            sink.Everything.Enqueue(everything.ToString());
        }
    }
}
