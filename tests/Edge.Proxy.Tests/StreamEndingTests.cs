using Edge.Proxy.Forwarding;
using Edge.Proxy.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Tests;

/// <summary>How a proxied stream's end is told from YARP's error (<see cref="StreamTelemetryMiddleware"/>).</summary>
public sealed class StreamEndingTests
{
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
