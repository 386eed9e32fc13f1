using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using ServiceDefaults.Redaction;

namespace Metrics.Api.Tests.Auth;

/// <summary>ServiceDefaults' redaction, unit by unit: what the whole-system leak test relies on.</summary>
public class RedactionTests
{
    private readonly QueryStringRedactor _redactor = new(["ticket", "access_token"], ["lastEventId", "probe"]);

    [Fact]
    public void A_logged_exception_whose_text_carries_a_ticket_is_replaced_by_a_redacted_copy()
    {
        var capture = new Capture();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(capture)), _redactor);
        var logger = factory.CreateLogger("test");
        var inner = new InvalidOperationException("GET /api/stream/metrics?ticket=SECRET1 failed");
        Exception thrown;
        try
        {
            throw new HttpRequestException("while calling http://h/api/stream/metrics?x=1&ticket=SECRET2", inner);
        }
        catch (HttpRequestException ex)
        {
            thrown = ex;
        }

#pragma warning disable CA1848, CA1873 // a plain log call is what this test needs
        logger.LogError(thrown, "Call failed");
#pragma warning restore CA1848, CA1873

        var (message, exception) = Assert.Single(capture.Entries);
        Assert.Equal("Call failed", message);
        var redacted = Assert.IsType<RedactedException>(exception);
        Assert.Equal(typeof(HttpRequestException).FullName, redacted.OriginalType);
        Assert.DoesNotContain("SECRET", redacted.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", redacted.Message, StringComparison.Ordinal);
        Assert.Contains("ticket=[redacted]", redacted.ToString(), StringComparison.Ordinal);
        Assert.Contains(nameof(A_logged_exception_whose_text_carries_a_ticket_is_replaced_by_a_redacted_copy), redacted.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public void Scopes_that_carry_a_ticket_are_redacted_and_others_pass_unchanged()
    {
        var capture = new Capture();
        using var factory = new RedactingLoggerFactory(
            LoggerFactory.Create(logging => logging.AddProvider(capture).Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.None)),
            _redactor);
        var logger = factory.CreateLogger("test");

        using (logger.BeginScope(new Dictionary<string, object?> { ["Url"] = "/a?ticket=SECRET3", ["Id"] = 7 }))
        using (logger.BeginScope("plain scope ?access_token=SECRET4"))
        using (logger.BeginScope(new Dictionary<string, object?> { ["Path"] = "/api/stream/metrics" }))
        {
#pragma warning disable CA1848, CA1873
            logger.LogInformation("inside");
#pragma warning restore CA1848, CA1873
        }

        var scopes = string.Join('\n', capture.Scopes);
        Assert.DoesNotContain("SECRET", scopes, StringComparison.Ordinal);
        Assert.Contains("Url=/a?ticket=[redacted]", scopes, StringComparison.Ordinal);
        Assert.Contains("plain scope ?access_token=[redacted]", scopes, StringComparison.Ordinal);
        Assert.Contains("Path=/api/stream/metrics", scopes, StringComparison.Ordinal);
        Assert.Contains("Id=7", scopes, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION", "true", true)]
    [InlineData("OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION", "TRUE", true)]
    [InlineData("DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION", "1", true)]
    [InlineData("DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION", "false", false)]
    [InlineData("OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION", "0", false)]
    public void The_guard_recognizes_each_switch(string name, string value, bool turnedOff)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [name] = value }).Build();

        var found = QueryRedactionGuard.TurnedOffSwitches(configuration).ToList();

        Assert.Equal(turnedOff, found.Any(f => f.StartsWith(name, StringComparison.Ordinal)));
    }

    private sealed class Capture : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? _scopes;

        public ConcurrentQueue<(string Message, Exception? Exception)> Entries { get; } = new();

        public ConcurrentQueue<string> Scopes { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(Capture capture) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                capture.Entries.Enqueue((formatter(state, exception), exception));
                capture._scopes?.ForEachScope(
                    (scope, queue) => queue.Enqueue(scope is IEnumerable<KeyValuePair<string, object?>> values
                        ? string.Join(' ', values.Select(v => $"{v.Key}={v.Value}"))
                        : scope?.ToString() ?? string.Empty),
                    capture.Scopes);
            }
        }
    }
}
