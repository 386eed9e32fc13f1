using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Metrics.Api.Auth;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Metrics.Api.Tests.Auth;

/// <summary>
/// POST /api/stream/tickets and redeeming tickets: one stream per ticket, only in the query of a stream request,
/// never as a bearer token, bound to the session of the access token it was issued for.
/// </summary>
public class StreamTicketTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("1.1")]
    [InlineData("2")]
    public async Task A_ticket_opens_one_stream_once_and_a_second_use_is_401_without_a_stream(string protocol)
    {
        await using var app = await TestApp.StartAsync();
        using var client = protocol == "2" ? app.CreateH2cClient(null) : app.CreateHttp1Client(null);
        var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);

        var first = await Requests.GetAsync(client, Requests.TicketQuery(ticket));
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(ControlEvents.ReadyType, first.FirstEvent?.EventType);
        Assert.Equal(1, app.StreamsOpened);

        var second = await Requests.GetAsync(client, Requests.TicketQuery(ticket));
        Assert.Equal(HttpStatusCode.Unauthorized, second.Status);
        Assert.Equal(1, app.StreamsOpened);
        Assert.DoesNotContain(ticket, second.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_ticket_response_is_no_store_and_the_ticket_is_its_own_kind_of_jwt()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client(null);
        var accessExpires = DateTimeOffset.UtcNow.AddMinutes(10);
        var accessToken = TestTokens.Access("alice", expires: accessExpires);

        var answer = await Requests.PostTicketAsync(client, accessToken);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Contains("no-store", answer.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal("application/json", answer.ContentHeaders?.ContentType?.MediaType);
        using var json = JsonDocument.Parse(answer.Body);
        var ticket = new JsonWebToken(json.RootElement.GetProperty("ticket").GetString());
        var expiresAt = json.RootElement.GetProperty("expiresAt").GetDateTimeOffset();
        var sessionExpiresAt = json.RootElement.GetProperty("sessionExpiresAt").GetDateTimeOffset();

        Assert.Equal("metrics-stream+jwt", ticket.Typ);
        Assert.Equal("HS256", ticket.Alg);
        Assert.Equal(TestTokens.TicketIssuer, ticket.Issuer);
        Assert.Equal([TestTokens.TicketAudience], ticket.Audiences);
        Assert.Equal("alice", ticket.Subject);
        Assert.Equal("metrics.read", ticket.GetClaim("scope").Value);
        Assert.Equal("/api/stream/metrics", ticket.GetClaim("path").Value);
        Assert.False(string.IsNullOrEmpty(ticket.Id));
        Assert.Equal(accessExpires.ToUnixTimeSeconds(), ticket.GetPayloadValue<long>("session_exp"));
        Assert.Equal(accessExpires.ToUnixTimeSeconds(), sessionExpiresAt.ToUnixTimeSeconds());
        Assert.InRange((ticket.ValidTo - ticket.ValidFrom).TotalSeconds, 29, 30);
        Assert.Equal(ticket.ValidTo, expiresAt.UtcDateTime);
        Assert.DoesNotContain(ticket.Claims, c => c.Type is "name" or "email" or "client_id");
    }

    [Fact]
    public async Task The_body_is_optional_and_only_ticketable_stream_paths_are_accepted()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client(null);

        Assert.Equal(HttpStatusCode.OK, (await Requests.PostTicketAsync(client, TestTokens.DefaultAccessToken, jsonBody: null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Requests.PostTicketAsync(client, TestTokens.DefaultAccessToken, "{}")).Status);

        foreach (var path in new[] { "/api/stream/tickets", "/api/instance", "/api/stream/other", "https://evil.example/api/stream/metrics", "/API/STREAM/METRICS" })
        {
            var answer = await Requests.PostTicketAsync(client, TestTokens.DefaultAccessToken, JsonSerializer.Serialize(new { path }));
            Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
            Assert.DoesNotContain(path, answer.Body, StringComparison.Ordinal);
        }

        var huge = await Requests.PostTicketAsync(client, TestTokens.DefaultAccessToken, JsonSerializer.Serialize(new { path = new string('a', 5000) }));
        Assert.True(huge.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, $"got {huge.Status}");
        app.AssertNoStreamAllocated();
    }

    [Fact]
    public async Task Two_parallel_uses_of_one_ticket_open_exactly_one_stream()
    {
        await using var app = await TestApp.StartAsync();
        using var h1 = app.CreateHttp1Client(null);
        using var h2 = app.CreateH2cClient(null);

        for (var round = 0; round < 5; round++)
        {
            var ticket = await Requests.TicketAsync(h1, TestTokens.DefaultAccessToken);
            var opened = app.StreamsOpened;
            var answers = await Task.WhenAll(
                Requests.GetAsync(h1, Requests.TicketQuery(ticket)),
                Requests.GetAsync(h2, Requests.TicketQuery(ticket)),
                Requests.GetAsync(h2, Requests.TicketQuery(ticket)));

            Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
            Assert.Equal(2, answers.Count(a => a.Status == HttpStatusCode.Unauthorized));
            Assert.Equal(opened + 1, app.StreamsOpened);
        }
    }

    [Fact]
    public async Task A_ticket_is_never_a_bearer_token_on_the_stream_or_on_the_ticket_endpoint()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client(null);
        var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);

        var stream = await Requests.GetAsync(client, SseConnection.StreamPath, bearer: ticket);
        var minting = await Requests.PostTicketAsync(client, ticket);

        Assert.Equal(HttpStatusCode.Unauthorized, stream.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, minting.Status);
        Assert.DoesNotContain(ticket, stream.AllText, StringComparison.Ordinal);
        app.AssertNoStreamAllocated();

        // Presented as a bearer token it was not even spent: the query still takes it.
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, Requests.TicketQuery(ticket))).Status);
    }

    [Fact]
    public async Task An_access_token_is_never_read_from_the_query()
    {
        await using var app = await TestApp.StartAsync(TestTokens.DevelopmentIssuerSettings());
        using var client = app.CreateHttp1Client(null);

        foreach (var token in new[] { TestTokens.DefaultAccessToken, TestTokens.Development() })
        {
            foreach (var query in new[] { $"ticket={token}", $"access_token={token}", $"Ticket={token}" })
            {
                var answer = await Requests.GetAsync(client, $"{SseConnection.StreamPath}?{query}");
                Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
                Assert.DoesNotContain(token, answer.AllText, StringComparison.Ordinal);
            }
        }

        app.AssertNoStreamAllocated();
    }

    [Fact]
    public async Task The_query_ticket_is_read_only_on_stream_paths_with_GET()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client(null);
        var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);
        var query = $"?ticket={ticket}";

        // Public endpoint: answers, but as anonymous; the ticket is not consumed.
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, "/api/instance" + query)).Status);
        // Look-alike paths: no route, no authentication.
        Assert.Equal(HttpStatusCode.NotFound, (await Requests.GetAsync(client, "/api/stream-evil" + query)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Requests.GetAsync(client, "/api/streams/metrics" + query)).Status);
        // The ticket endpoint takes access tokens only, and POST never reads the query.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Requests.PostTicketAsync(client, bearer: null, pathAndQuery: "/api/stream/tickets" + query)).Status);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await Requests.GetAsync(client, "/api/stream/tickets" + query)).Status);
        app.AssertNoStreamAllocated();

        // None of that spent it: it still opens the stream it was issued for.
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, Requests.TicketQuery(ticket))).Status);
    }

    [Fact]
    public async Task A_header_and_a_ticket_together_are_400_and_neither_identity_is_used()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client(null);
        var bobsTicket = await Requests.TicketAsync(client, TestTokens.Access("bob"));

        var both = await Requests.GetAsync(client, Requests.TicketQuery(bobsTicket), bearer: TestTokens.Access("alice"));
        var twice = await Requests.GetAsync(client, $"{Requests.TicketQuery(bobsTicket)}&ticket={bobsTicket}");
        var invalidHeader = await Requests.GetAsync(client, Requests.TicketQuery(bobsTicket), configure: r => r.Headers.TryAddWithoutValidation("Authorization", "Basic Ym9iOmJvYg=="));

        Assert.Equal(HttpStatusCode.BadRequest, both.Status);
        Assert.Equal(HttpStatusCode.BadRequest, twice.Status);
        Assert.Equal(HttpStatusCode.BadRequest, invalidHeader.Status);
        Assert.Equal("application/problem+json", both.ContentHeaders?.ContentType?.MediaType);
        Assert.DoesNotContain(bobsTicket, both.AllText + twice.AllText, StringComparison.Ordinal);
        app.AssertNoStreamAllocated();

        // The ticket was not spent by the refused requests.
        var alone = await Requests.GetAsync(client, Requests.TicketQuery(bobsTicket));
        Assert.Equal(HttpStatusCode.OK, alone.Status);
    }

    // Token signatures and exp/nbf are checked by Microsoft.IdentityModel on the real clock, so the fake clock starts
    // at the real time and the tokens live ten minutes: they stay valid there while the server's own clock (session
    // end, stream deadline, ticket issuance) is moved past the session's end.
    [Fact]
    public async Task A_stream_opened_with_a_ticket_ends_with_reauth_when_the_session_ends_and_the_ticket_is_dead_after()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(configureServices: services => services.AddSingleton<TimeProvider>(time));
        using var cleanups = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), StreamMetrics.MeterName, StreamMetrics.CleanupsName);
        using var client = app.CreateH2cClient(null);
        var sessionEnds = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds());
        var ticket = await Requests.TicketAsync(client, TestTokens.Access("carol", expires: sessionEnds));

        await using var stream = await SseConnection.OpenAsync(client, Requests.TicketQuery(ticket));
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        // The stream ends shortly before the session (the lead is at most AuthenticatedSession.MaxEndJitter): not before that.
        time.Advance(sessionEnds - AuthenticatedSession.MaxEndJitter - TimeSpan.FromSeconds(1) - time.GetUtcNow());
        await StreamAssert.StillStreamingAsync(app, stream);

        time.Advance(sessionEnds - time.GetUtcNow());
        var reauth = await stream.ReadUntilAsync(ControlEvents.ReauthType, s_wait);

        Assert.Equal("token_expired", JsonDocument.Parse(reauth.Data).RootElement.GetProperty("reason").GetString());
        Assert.Null(await stream.ReadAsync(s_wait));
        await Eventually.TrueAsync(() => app.Subscribers.Count == 0, s_wait, "the stream is cleaned up");
        var ended = Assert.Single(cleanups.GetMeasurementSnapshot());
        Assert.Equal("token_expired", ended.Tags[StreamMetrics.EndReasonAttribute]);

        var again = await Requests.GetAsync(client, Requests.TicketQuery(ticket));
        Assert.Equal(HttpStatusCode.Unauthorized, again.Status);
        Assert.Equal(1, app.StreamsOpened);
        // The ended session gets no new ticket either.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Requests.PostTicketAsync(client, TestTokens.Access("carol", expires: sessionEnds))).Status);
    }

    [Fact]
    public async Task A_stream_opened_with_a_bearer_token_ends_with_reauth_at_the_tokens_expiry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(configureServices: services => services.AddSingleton<TimeProvider>(time));
        using var cleanups = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), StreamMetrics.MeterName, StreamMetrics.CleanupsName);
        var expires = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds());
        using var client = app.CreateHttp1Client(TestTokens.Access("dave", expires: expires));
        await using var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        time.Advance(expires - AuthenticatedSession.MaxEndJitter - TimeSpan.FromSeconds(1) - time.GetUtcNow());
        await StreamAssert.StillStreamingAsync(app, stream);

        time.Advance(expires - time.GetUtcNow());
        await stream.ReadUntilAsync(ControlEvents.ReauthType, s_wait);

        Assert.Null(await stream.ReadAsync(s_wait));
        await Eventually.TrueAsync(() => app.Subscribers.Count == 0, s_wait, "the stream is cleaned up");
        Assert.Equal("token_expired", Assert.Single(cleanups.GetMeasurementSnapshot()).Tags[StreamMetrics.EndReasonAttribute]);
    }

    [Fact]
    public async Task Ticket_issuance_is_rate_limited_per_user_with_429_and_retry_after()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["StreamTickets:RateLimit:TokenLimit"] = "3",
            ["StreamTickets:RateLimit:TokensPerPeriod"] = "1",
            ["StreamTickets:RateLimit:ReplenishmentPeriod"] = "00:01:00",
        });
        using var client = app.CreateHttp1Client(null);
        var erin = TestTokens.Access("erin");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Requests.PostTicketAsync(client, erin)).Status);
        }

        var limited = await Requests.PostTicketAsync(client, erin);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.NotNull(limited.Headers.RetryAfter?.Delta);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.DoesNotContain("ticket\"", limited.Body, StringComparison.Ordinal);

        // Another user has a bucket of their own.
        Assert.Equal(HttpStatusCode.OK, (await Requests.PostTicketAsync(client, TestTokens.Access("frank"))).Status);
        app.AssertNoStreamAllocated();
    }

    [Fact]
    public async Task Without_the_metrics_read_scope_or_role_streams_and_tickets_are_403()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client(null);

        foreach (var token in new[]
        {
            TestTokens.Access(scope: null),
            TestTokens.Access(scope: "openid profile"),
            TestTokens.Access(scope: "metrics.readwrite metrics.reader"),
            TestTokens.Access(scope: null, claims: c => c["roles"] = new[] { "metrics.write" }),
        })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await Requests.GetAsync(client, SseConnection.StreamPath, token)).Status);
            Assert.Equal(HttpStatusCode.Forbidden, (await Requests.PostTicketAsync(client, token)).Status);
        }

        app.AssertNoStreamAllocated();

        // Entra ID's delegated `scp` and app-only `roles` forms both count.
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, SseConnection.StreamPath, TestTokens.Access(scope: null, claims: c => c["scp"] = "openid metrics.read"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, SseConnection.StreamPath, TestTokens.Access(scope: null, claims: c => c["roles"] = new[] { "metrics.read" }))).Status);
    }

    [Fact]
    public async Task Without_any_credential_streams_and_tickets_are_401_with_a_plain_bearer_challenge()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client(null);

        var stream = await Requests.GetAsync(client, SseConnection.StreamPath);
        var minting = await Requests.PostTicketAsync(client, bearer: null);

        Assert.Equal(HttpStatusCode.Unauthorized, stream.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, minting.Status);
        Assert.Equal("Bearer", Assert.Single(stream.Headers.WwwAuthenticate).ToString());
        app.AssertNoStreamAllocated();
    }
}
