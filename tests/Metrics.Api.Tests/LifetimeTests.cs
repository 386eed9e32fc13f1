using System.Diagnostics.Metrics;
using System.Text.Json;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Metrics.Api.Tests;

/// <summary>Streams the server ends on purpose: session expiry or revocation, maximum age, shutdown.</summary>
public class LifetimeTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task An_expiring_session_ends_the_stream_with_reauth_and_reason_token_expired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var expiresAt = time.GetUtcNow() + TimeSpan.FromMinutes(1);
        await using var app = await TestApp.StartAsync(configureServices: services => services
            .AddSingleton<TimeProvider>(time)
            .AddSingleton<IStartupFilter>(new SessionFromQuery(_ => new StreamSessionFeature { ExpiresAt = expiresAt })));
        using var cleanups = Cleanups(app);
        using var client = app.CreateHttp1Client();
        await using var stream = await SseConnection.OpenAsync(client, $"{SseConnection.StreamPath}?session=1");
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        // A second short of the expiry the stream still carries events.
        time.Advance(expiresAt - time.GetUtcNow() - TimeSpan.FromSeconds(1));
        await StreamAssert.StillStreamingAsync(app, stream);

        time.Advance(TimeSpan.FromSeconds(1));
        var reauth = await StreamAssert.ReadPastPingsAsync(stream);

        Assert.Equal(ControlEvents.ReauthType, reauth?.EventType);
        Assert.Null(reauth?.EventId);
        Assert.Equal("token_expired", JsonDocument.Parse(reauth!.Value.Data).RootElement.GetProperty("reason").GetString());
        Assert.Null(await stream.ReadAsync(s_wait)); // then a clean end
        await AssertEndedAsync(app, cleanups, "token_expired");
    }

    [Fact]
    public async Task A_revoked_session_ends_the_stream_with_reauth()
    {
        using var revoke = new CancellationTokenSource();
        await using var app = await TestApp.StartAsync(configureServices: services => services.AddSingleton<IStartupFilter>(
            new SessionFromQuery(_ => new StreamSessionFeature { Revoked = revoke.Token })));
        using var cleanups = Cleanups(app);
        using var client = app.CreateH2cClient();
        await using var stream = await SseConnection.OpenAsync(client, $"{SseConnection.StreamPath}?session=1");
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        await revoke.CancelAsync();

        Assert.Equal(ControlEvents.ReauthType, (await stream.ReadAsync(s_wait))?.EventType);
        Assert.Null(await stream.ReadAsync(s_wait));
        await AssertEndedAsync(app, cleanups, "token_expired");
    }

    [Fact]
    public async Task A_session_that_already_expired_gets_ready_then_reauth_at_once()
    {
        await using var app = await TestApp.StartAsync(configureServices: services => services.AddSingleton<IStartupFilter>(
            new SessionFromQuery(_ => new StreamSessionFeature { ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) })));
        using var client = app.CreateHttp1Client();
        await using var stream = await SseConnection.OpenAsync(client, $"{SseConnection.StreamPath}?session=1");

        Assert.Equal(ControlEvents.ReadyType, (await stream.ReadAsync(s_wait))?.EventType);
        Assert.Equal(ControlEvents.ReauthType, (await stream.ReadAsync(s_wait))?.EventType);
        Assert.Null(await stream.ReadAsync(s_wait));
    }

    [Fact]
    public async Task A_stream_past_its_maximum_age_is_asked_to_reconnect()
    {
        // The age is jittered by ±10 %: 9 to 11 minutes.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["Streaming:MaxStreamAge"] = "00:10:00" },
            services => services.AddSingleton<TimeProvider>(time));
        using var cleanups = Cleanups(app);
        using var client = app.CreateHttp1Client();
        await using var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        time.Advance(TimeSpan.FromMinutes(8.9));
        await StreamAssert.StillStreamingAsync(app, stream);

        time.Advance(TimeSpan.FromMinutes(2.2));
        var reconnect = await StreamAssert.ReadPastPingsAsync(stream);

        Assert.Equal(ControlEvents.ReconnectType, reconnect?.EventType);
        Assert.Equal(TimeSpan.FromSeconds(3), reconnect?.ReconnectionInterval);
        Assert.Null(await stream.ReadAsync(s_wait));
        await AssertEndedAsync(app, cleanups, "max_age");
    }

    [Fact]
    public async Task Stopping_the_host_ends_every_stream_with_a_jittered_retry_and_a_clean_end()
    {
        var app = await TestApp.StartAsync();
        using var h1 = app.CreateHttp1Client();
        using var h2 = app.CreateH2cClient();
        var streams = new List<SseConnection>();
        for (var i = 0; i < 10; i++)
        {
            var stream = await SseConnection.OpenAsync(i % 2 == 0 ? h1 : h2);
            await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
            streams.Add(stream);
        }

        var reads = streams.Select(async s =>
        {
            var farewell = await s.ReadAsync(s_wait);
            var end = await s.ReadAsync(s_wait);
            return (farewell, end);
        }).ToArray();
        var logs = app.Logs;
        await app.DisposeAsync();

        foreach (var (farewell, end) in await Task.WhenAll(reads))
        {
            Assert.Equal(ControlEvents.ShutdownType, farewell?.EventType);
            Assert.InRange(farewell!.Value.ReconnectionInterval!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
            Assert.Null(end);
        }

        Assert.Empty(logs.Errors);
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
    }

    private static MetricCollector<long> Cleanups(TestApp app) =>
        new(app.Services.GetRequiredService<IMeterFactory>(), StreamMetrics.MeterName, StreamMetrics.CleanupsName);

    private static async Task AssertEndedAsync(TestApp app, MetricCollector<long> cleanups, string reason)
    {
        await Eventually.TrueAsync(() => app.Subscribers.Count == 0, s_wait, "the stream is cleaned up");
        var measurement = Assert.Single(cleanups.GetMeasurementSnapshot());
        Assert.Equal(reason, measurement.Tags[StreamMetrics.EndReasonAttribute]);
        Assert.Empty(app.Logs.Errors);
    }

    /// <summary>
    /// Stands in for authentication: on requests with <c>?session=</c> it sets the session feature
    /// the way the auth work will from a validated token.
    /// </summary>
    private sealed class SessionFromQuery(Func<HttpContext, IStreamSessionFeature> session) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (context.Request.Query.ContainsKey("session"))
                {
                    context.Features.Set(session(context));
                }

                await nextMiddleware(context);
            });
            next(app);
        };
    }
}
