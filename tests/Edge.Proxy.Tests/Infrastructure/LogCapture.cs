using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Edge.Proxy.Tests.Infrastructure;

/// <summary>Keeps every log entry the edge writes: category, formatted message and structured values.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    /// <summary>The entries as one line each: level, category, message.</summary>
    public IEnumerable<string> Lines() => Entries.Select(e => $"{e.Level} {e.Category}: {e.Message}");

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            capture.Entries.Enqueue(new LogEntry(
                category,
                logLevel,
                formatter(state, exception),
                values.Select(v => $"{v.Key}={v.Value}").ToList(),
                state?.ToString()));
        }
    }
}

public sealed record LogEntry(string Category, LogLevel Level, string Message, IReadOnlyList<string> Values, string? StateText)
{
    /// <summary>Everything an exporter could write for this entry.</summary>
    public string AllText => string.Join('\n', [Message, StateText ?? string.Empty, .. Values]);
}
