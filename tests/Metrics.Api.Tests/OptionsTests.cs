using Metrics.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Tests;

public class OptionsTests
{
    [Theory]
    [InlineData("Streaming:HeartbeatInterval", "00:01:40")]
    [InlineData("Streaming:HeartbeatInterval", "00:00:00")]
    [InlineData("Streaming:QueueCapacity", "0")]
    [InlineData("Streaming:ShutdownRetryMin", "00:00:30")]
    [InlineData("Streaming:Sampler:Interval", "00:00:00.001")]
    [InlineData("Streaming:Server:Http2MaxStreamsPerConnection", "10")]
    [InlineData("Streaming:Server:ShutdownTimeout", "00:01:00")]
    public async Task Invalid_settings_stop_the_service_at_start_up(string key, string value)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await TestApp.StartAsync(new Dictionary<string, string?> { [key] = value }));

        Assert.True(FindValidationError(error) is not null, $"expected an options validation error, got: {error}");
    }

    private static OptionsValidationException? FindValidationError(Exception? error) => error switch
    {
        null => null,
        OptionsValidationException validation => validation,
        AggregateException aggregate => aggregate.InnerExceptions.Select(FindValidationError).FirstOrDefault(v => v is not null),
        _ => FindValidationError(error.InnerException),
    };

    [Fact]
    public async Task Server_limits_reach_kestrel_and_the_host()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Streaming:Server:Http2MaxStreamsPerConnection"] = "1234",
            ["Streaming:Server:MaxConcurrentConnections"] = "4321",
            ["Streaming:Server:Http2KeepAlivePingDelay"] = "00:00:45",
            ["Streaming:Server:ShutdownTimeout"] = "00:00:12",
        });

        var kestrel = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        Assert.Equal(1234, kestrel.Limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(4321, kestrel.Limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.FromSeconds(45), kestrel.Limits.Http2.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(12), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }
}
