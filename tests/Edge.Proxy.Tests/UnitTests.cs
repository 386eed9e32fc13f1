using Edge.Proxy.Proxy;
using Edge.Proxy.Telemetry;
using Edge.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using ServiceDefaults.Redaction;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Tests;

public sealed class QueryStringRedactorTests
{
    private readonly QueryStringRedactor _redactor = new(["ticket", "access_token"]);

    [Theory]
    [InlineData("http://h:1/api/stream/m?ticket=abc.def-ghi&x=1", "http://h:1/api/stream/m?ticket=[redacted]&x=1")]
    [InlineData("?x=1&Access_Token=abc", "?x=1&Access_Token=[redacted]")]
    [InlineData("ticket=abc", "ticket=[redacted]")]
    [InlineData("Proxying to http://h/p?TICKET=abc HTTP/2", "Proxying to http://h/p?TICKET=[redacted] HTTP/2")]
    [InlineData("/login?returnUrl=%2Fapi%3Fticket%3Dabc", "/login?returnUrl=%2Fapi%3Fticket%3D[redacted]")]
    [InlineData("http://h/p?ticketing=abc&myticket=def", "http://h/p?ticketing=abc&myticket=def")]
    [InlineData("http://h/ticket/abc?x=1", "http://h/ticket/abc?x=1")]
    public void Redacts_only_the_values_of_sensitive_parameters(string input, string expected)
    {
        Assert.Equal(expected, _redactor.Redact(input));
    }

    [Fact]
    public void Configured_names_are_redacted_too()
    {
        var redactor = new QueryStringRedactor(new QueryRedactionOptions { QueryParameters = { "code" } }.QueryParameters);

        Assert.Equal("?code=[redacted]&ticket=[redacted]", redactor.Redact("?code=1&ticket=2"));
    }

    [Fact]
    public void Structured_log_values_and_the_message_are_both_redacted()
    {
        var capture = new LogCapture();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(capture)), _redactor);
        var logger = factory.CreateLogger("test");

        var target = new Uri("http://h/p?ticket=abc&x=1");
#pragma warning disable CA1873 // a plain structured log call is exactly what this test needs
        logger.LogInformation("Proxying to {TargetUrl} after {Attempts} attempts", target, 2);
#pragma warning restore CA1873

        var entry = Assert.Single(capture.Entries);
        Assert.Equal("Proxying to http://h/p?ticket=[redacted]&x=1 after 2 attempts", entry.Message);
        Assert.Contains("TargetUrl=http://h/p?ticket=[redacted]&x=1", entry.Values);
        Assert.Contains("Attempts=2", entry.Values);
        Assert.Contains("{OriginalFormat}=Proxying to {TargetUrl} after {Attempts} attempts", entry.Values);
        Assert.DoesNotContain("abc", entry.AllText, StringComparison.Ordinal);
    }
}

public sealed class StreamRuleTests
{
    [Theory]
    [InlineData("no-cache,no-store", "no-cache, no-store, no-transform")]
    [InlineData("", "no-cache, no-transform")]
    [InlineData("max-age=0, No-Transform", "max-age=0, No-Transform, no-cache")]
    public void Cache_control_keeps_upstream_directives_and_adds_no_cache_and_no_transform(string upstream, string expected)
    {
        Assert.Equal(expected, StreamTransformProvider.WithStreamDirectives(new StringValues(upstream)));
    }

    [Theory]
    [InlineData(ForwarderError.None, null, StreamEndReason.Completed)]
    [InlineData(ForwarderError.ResponseBodyCanceled, null, StreamEndReason.ClientAborted)]
    [InlineData(ForwarderError.RequestCanceled, null, StreamEndReason.ClientAborted)]
    [InlineData(ForwarderError.ResponseBodyClient, typeof(IOException), StreamEndReason.ClientAborted)]
    [InlineData(ForwarderError.ResponseBodyDestination, typeof(TaskCanceledException), StreamEndReason.ActivityTimeout)]
    [InlineData(ForwarderError.RequestTimedOut, typeof(TaskCanceledException), StreamEndReason.ActivityTimeout)]
    [InlineData(ForwarderError.ResponseBodyDestination, typeof(IOException), StreamEndReason.DestinationError)]
    [InlineData(ForwarderError.Request, typeof(HttpRequestException), StreamEndReason.DestinationError)]
    [InlineData(ForwarderError.NoAvailableDestinations, null, StreamEndReason.DestinationError)]
    [InlineData(ForwarderError.RequestCreation, null, StreamEndReason.Other)]
    public void Stream_endings_are_classified_by_forwarder_error(ForwarderError error, Type? exception, StreamEndReason expected)
    {
        var thrown = exception is null ? null : (Exception)Activator.CreateInstance(exception)!;

        Assert.Equal(expected, StreamTelemetryMiddleware.Classify(error, thrown));
    }
}
