using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Metrics.Api.Apis;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Metrics.Api.Tests;

/// <summary>The operator's rebalance: every open stream ends with a jittered reconnect, and the replica keeps serving.</summary>
public class StreamAdminTests
{
    private const string AdminKey = "test-admin-key-0123456789abcdefghijklmnop";
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);
    private static readonly Dictionary<string, string?> s_withAdminKey = new() { ["StreamAdmin:ApiKey"] = AdminKey };

    [Fact]
    public async Task Rebalance_ends_every_open_stream_with_a_jittered_reconnect_and_new_streams_are_served()
    {
        await using var app = await TestApp.StartAsync(s_withAdminKey);
        using var cleanups = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), StreamMetrics.MeterName, StreamMetrics.CleanupsName);
        using var client = app.CreateH2cClient();
        await using var first = await SseConnection.OpenAsync(client);
        await using var second = await SseConnection.OpenAsync(client);
        await first.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        await second.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        using var response = await RebalanceAsync(app, AdminKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<RebalanceResult>())!.EndedStreams);
        foreach (var stream in new[] { first, second })
        {
            var farewell = await stream.ReadUntilAsync(ControlEvents.ReconnectType, s_wait);
            Assert.Equal("rebalance", JsonDocument.Parse(farewell.Data).RootElement.GetProperty("reason").GetString());
            Assert.NotNull(farewell.ReconnectionInterval);
            Assert.Null(await stream.ReadAsync(s_wait));
        }

        await Eventually.TrueAsync(() => app.Subscribers.Count == 0, s_wait, "the streams are cleaned up");
        Assert.All(cleanups.GetMeasurementSnapshot(), m => Assert.Equal("rebalance", m.Tags[StreamMetrics.EndReasonAttribute]));
        Assert.Equal(2, cleanups.GetMeasurementSnapshot().Count);

        await using var after = await SseConnection.OpenAsync(client);
        await after.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        Assert.Equal(1, app.Subscribers.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("test-admin-key-0123456789abcdefghijklmnoX")]
    public async Task Without_the_key_nothing_ends_and_the_answer_is_401(string? key)
    {
        await using var app = await TestApp.StartAsync(s_withAdminKey);
        using var client = app.CreateH2cClient();
        await using var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        using var response = await RebalanceAsync(app, key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, app.Subscribers.Count);
    }

    [Fact]
    public async Task With_no_key_configured_the_endpoint_does_not_exist()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await RebalanceAsync(app, AdminKey);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_key_shorter_than_32_characters_stops_start_up()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            TestApp.StartAsync(new Dictionary<string, string?> { ["StreamAdmin:ApiKey"] = "short" }));

        Assert.Contains("ApiKey", error.ToString(), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> RebalanceAsync(TestApp app, string? key)
    {
        using var client = new HttpClient { BaseAddress = app.Http1Address };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/streams/rebalance");
        if (key is not null)
        {
            request.Headers.Add(StreamAdminApi.KeyHeader, key);
        }

        return await client.SendAsync(request);
    }
}
