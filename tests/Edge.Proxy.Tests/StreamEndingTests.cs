using Edge.Proxy.Forwarding;
using Edge.Proxy.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Tests;

/// <summary>How a proxied stream's end is told from YARP's error (<see cref="ProxyTelemetryMiddleware"/>).</summary>
public sealed class StreamEndingTests
{
    [Theory]
    [InlineData(ForwarderError.None, null, ProxiedStreamOutcome.Completed)]
    [InlineData(ForwarderError.ResponseBodyCanceled, null, ProxiedStreamOutcome.ClientAborted)]
    [InlineData(ForwarderError.RequestCanceled, null, ProxiedStreamOutcome.ClientAborted)]
    [InlineData(ForwarderError.ResponseBodyClient, typeof(IOException), ProxiedStreamOutcome.ClientAborted)]
    [InlineData(ForwarderError.ResponseBodyDestination, typeof(TaskCanceledException), ProxiedStreamOutcome.ActivityTimeout)]
    [InlineData(ForwarderError.RequestTimedOut, typeof(TaskCanceledException), ProxiedStreamOutcome.ActivityTimeout)]
    [InlineData(ForwarderError.ResponseBodyDestination, typeof(IOException), ProxiedStreamOutcome.DestinationError)]
    [InlineData(ForwarderError.Request, typeof(HttpRequestException), ProxiedStreamOutcome.DestinationError)]
    [InlineData(ForwarderError.NoAvailableDestinations, null, ProxiedStreamOutcome.DestinationError)]
    [InlineData(ForwarderError.RequestCreation, null, ProxiedStreamOutcome.Other)]
    public void Stream_endings_are_classified_by_forwarder_error(ForwarderError error, Type? exception, ProxiedStreamOutcome expected)
    {
        var thrown = exception is null ? null : (Exception)Activator.CreateInstance(exception)!;

        Assert.Equal(expected, ProxyTelemetryMiddleware.Classify(error, thrown));
    }
}
