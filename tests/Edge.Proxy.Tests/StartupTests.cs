using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

/// <summary>Misconfiguration stops the edge at start-up with a message that says what to fix, instead of 502s later.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Stream_cluster_whose_activity_timeout_is_under_three_heartbeats_fails_start_up()
    {
        await using var upstream = await SseUpstream.StartAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => EdgeHost.StartAsync(upstream, settings =>
            settings["ReverseProxy:Clusters:metrics-api:HttpRequest:ActivityTimeout"] = "00:00:30"));

        var message = AllMessages(error);
        Assert.Contains("api-stream", message, StringComparison.Ordinal);
        Assert.Contains("ActivityTimeout", message, StringComparison.Ordinal);
        Assert.Contains("00:00:45", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_limits_are_validated_at_start_up()
    {
        await using var upstream = await SseUpstream.StartAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => EdgeHost.StartAsync(upstream, settings =>
            settings["Edge:Server:Http2MaxStreamsPerConnection"] = "50"));

        Assert.Contains("Http2MaxStreamsPerConnection", AllMessages(error), StringComparison.Ordinal);
    }

    private static string AllMessages(Exception error)
    {
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is AggregateException aggregate)
            {
                messages.AddRange(aggregate.InnerExceptions.Select(AllMessages));
            }
        }

        return string.Join(" | ", messages);
    }
}
