using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>Keeps every warning and error the app logs, so tests can assert that nothing went wrong quietly.</summary>
public sealed class LogSink : ILoggerProvider
{
    public ConcurrentQueue<string> Entries { get; } = new();

    public IEnumerable<string> Errors => Entries.Where(e => e.StartsWith("Error", StringComparison.Ordinal) || e.StartsWith("Critical", StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new SinkLogger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class SinkLogger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                sink.Entries.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
            }
        }
    }
}
