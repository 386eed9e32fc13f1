using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

/// <summary>Misconfiguration stops the edge at start-up with a message that says what to fix, instead of 502s later.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Destination_that_neither_configuration_nor_DNS_resolves_fails_start_up_naming_the_service()
    {
        // No services__metrics-api__* entry, and "metrics-api" is not a DNS name here (it is one in Container Apps).
        var settings = EdgeHost.BaseSettings();
        settings["services:dashboard-web:http:0"] = "http://127.0.0.1:9";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => EdgeHost.StartAsync(settings));

        var message = AllMessages(error);
        Assert.Contains("cluster metrics-api", message, StringComparison.Ordinal);
        Assert.Contains("services__metrics-api__h2c__0", message, StringComparison.Ordinal);
        Assert.Contains("does not resolve by DNS", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Name_that_DNS_resolves_is_accepted_without_a_services_entry()
    {
        // "localhost" stands in for a Container Apps app name: no services__ entry, but DNS knows it.
        var settings = EdgeHost.BaseSettings();
        settings["ReverseProxy:Clusters:metrics-api:Destinations:metrics-api:Address"] = "http://_h2c.localhost";
        settings["ReverseProxy:Clusters:dashboard-web:Destinations:dashboard-web:Address"] = "http://localhost";

        await using var edge = await EdgeHost.StartAsync(settings);

        Assert.Contains(edge.Logs.Entries, e => e.Message == "Destination metrics-api (http://_h2c.localhost) resolved to http://localhost");
    }

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
