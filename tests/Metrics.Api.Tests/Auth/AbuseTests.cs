using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Metrics.Api.Tests.Auth;

/// <summary>
/// Oversized tokens, Last-Event-ID abuse, event injection and the per-user stream limit: refused fast, never
/// echoed, nothing allocated.
/// </summary>
public class AbuseTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    /// <summary>A token-shaped value of <paramref name="length"/> characters, unique per call.</summary>
    private static string Oversized(int length) =>
        $"eyJhbGciOiJIUzI1NiIsInR5cCI6Im1ldHJpY3Mtc3RyZWFtK2p3dCJ9.{Guid.NewGuid():N}{new string('A', length)}"[..length];

    /// <remarks>
    /// 5 KB passes Kestrel's limits and meets StreamTickets:MaxLength (4096), checked before parsing: 401. 9 and 20 KB
    /// exceed the request line (MaxRequestLineSize, 8 KB): HTTP/1.1 answers 414, HTTP/2 resets the stream.
    /// </remarks>
    [Theory]
    [InlineData("1.1", 5 * 1024)]
    [InlineData("2", 5 * 1024)]
    [InlineData("1.1", 9 * 1024)]
    [InlineData("1.1", 20 * 1024)]
    [InlineData("2", 9 * 1024)]
    [InlineData("2", 20 * 1024)]
    public async Task An_oversized_ticket_is_refused_fast_without_echo_or_stream(string protocol, int length)
    {
        await using var app = await TestApp.StartAsync();
        using var client = protocol == "2" ? app.CreateH2cClient(null) : app.CreateHttp1Client(null);
        var ticket = Oversized(length);
        var stopwatch = Stopwatch.StartNew();

        var (status, text) = await TryGetAsync(client, $"{SseConnection.StreamPath}?ticket={ticket}");

        output.WriteLine($"HTTP/{protocol} {length} B: {status?.ToString() ?? "reset"} in {stopwatch.ElapsedMilliseconds} ms");
        if (length < 8 * 1024)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, status);
        }

        Assert.True(status is null or HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.RequestUriTooLong or HttpStatusCode.RequestHeaderFieldsTooLarge,
            $"got {status}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        Assert.DoesNotContain(ticket[60..100], text, StringComparison.Ordinal);
        app.AssertNoStreamAllocated();
        Assert.Empty(app.Logs.Errors);
    }

    [Theory]
    [InlineData("1.1", 20 * 1024)]
    [InlineData("1.1", 40 * 1024)]
    [InlineData("2", 20 * 1024)]
    public async Task An_oversized_access_token_is_refused_fast_without_echo_or_stream(string protocol, int length)
    {
        await using var app = await TestApp.StartAsync(TestTokens.DevelopmentIssuerSettings());
        using var client = protocol == "2" ? app.CreateH2cClient(null) : app.CreateHttp1Client(null);
        var token = Oversized(length);
        var stopwatch = Stopwatch.StartNew();

        var (status, text) = await TryGetAsync(client, SseConnection.StreamPath, token);

        output.WriteLine($"HTTP/{protocol} {length} B bearer: {status?.ToString() ?? "reset"} in {stopwatch.ElapsedMilliseconds} ms");
        Assert.True(status is null or HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.RequestHeaderFieldsTooLarge, $"got {status}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        Assert.DoesNotContain(token[60..100], text, StringComparison.Ordinal);
        app.AssertNoStreamAllocated();
    }

    [Theory]
    [InlineData("header", "10k")]
    [InlineData("header", "12abc")]
    [InlineData("header", "-1")]
    [InlineData("header", "1 OR 1=1")]
    [InlineData("header", "99999999999999999999")]
    [InlineData("query", "10k")]
    [InlineData("query", "1;2")]
    [InlineData("query", "%00")]
    public async Task A_malformed_or_huge_Last_Event_ID_is_400_without_echo_or_stream(string where, string value)
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client(null);
        var id = value == "10k" ? new string('7', 10 * 1024) : value;
        var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);

        var answer = where == "header"
            ? await Requests.GetAsync(client, Requests.TicketQuery(ticket), configure: r => r.Headers.TryAddWithoutValidation("Last-Event-ID", id))
            : await Requests.GetAsync(client, $"{Requests.TicketQuery(ticket)}&lastEventId={id}");

        // Beyond the request line limit Kestrel answers 414 before the app sees it.
        Assert.True(answer.Status is HttpStatusCode.BadRequest || (where == "query" && answer.Status == HttpStatusCode.RequestUriTooLong), $"got {answer.Status}");
        if (id.Length > 3)
        {
            Assert.DoesNotContain(id, answer.AllText, StringComparison.Ordinal);
        }

        app.AssertNoStreamAllocated();
    }

    [Fact]
    public async Task Published_text_that_looks_like_sse_fields_arrives_as_literal_data_and_line_breaks_in_types_are_refused()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateH2cClient(null);
        var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);
        await using var stream = await SseConnection.OpenAsync(client, Requests.TicketQuery(ticket));
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        await app.PublishAsync("metrics", "a\r\n\r\nevent: admin\ndata: pwn\rid: 1\r\n");
        await app.PublishAsync("metrics", "\"after\"");

        var injected = await stream.ReadAsync(s_wait);
        var after = await stream.ReadAsync(s_wait);
        Assert.Equal("metrics", injected?.EventType);
        Assert.Equal("a\n\nevent: admin\ndata: pwn\nid: 1\n", injected?.Data);
        Assert.NotEqual("1", injected?.EventId);
        Assert.Equal("metrics", after?.EventType);
        Assert.Equal("\"after\"", after?.Data);

        foreach (var type in new[] { "x\ndata: evil", "x\rdata: evil", "x\r\nevent: admin", "x\0y" })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await app.PublishAsync(type, "{}"));
        }
    }

    [Fact]
    public async Task A_user_gets_at_most_the_limit_of_streams_the_next_is_429_with_retry_after_and_a_closed_one_frees_a_slot()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Streaming:Limits:MaxStreamsPerUser"] = "3",
            ["Streaming:Limits:RetryAfter"] = "00:00:07",
        });
        using var client = app.CreateH2cClient(null);
        var alice = TestTokens.Access("alice");
        var streams = new List<SseConnection>();
        for (var i = 0; i < 3; i++)
        {
            // Tickets and header tokens count alike.
            var stream = i == 0
                ? await SseConnection.OpenAsync(client, Requests.TicketQuery(await Requests.TicketAsync(client, alice)))
                : await OpenWithBearerAsync(app, alice);
            await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
            streams.Add(stream);
        }

        var opened = app.StreamsOpened;
        var refused = await Requests.GetAsync(client, SseConnection.StreamPath, alice);
        var refusedTicket = await Requests.GetAsync(client, Requests.TicketQuery(await Requests.TicketAsync(client, alice)));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedTicket.Status);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", refused.ContentHeaders?.ContentType?.MediaType);
        Assert.Equal(opened, app.StreamsOpened);
        Assert.Equal(3, app.Subscribers.Count);

        // Another user is not affected.
        var bob = await Requests.GetAsync(client, SseConnection.StreamPath, TestTokens.Access("bob"));
        Assert.Equal(HttpStatusCode.OK, bob.Status);

        // Closing a stream gives the slot back.
        await streams[1].DisposeAsync();
        streams.RemoveAt(1);
        await Eventually.TrueAsync(() => app.Subscribers.Count == 2, s_wait, "the closed stream and bob's are gone");
        var again = await Requests.GetAsync(client, SseConnection.StreamPath, alice);
        Assert.Equal(HttpStatusCode.OK, again.Status);

        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }

        await Eventually.TrueAsync(() => app.Subscribers.Count == 0, s_wait, "every stream is gone");
        // Every slot came back.
        var final = new List<SseConnection>();
        for (var i = 0; i < 3; i++)
        {
            final.Add(await OpenWithBearerAsync(app, alice));
        }

        foreach (var stream in final)
        {
            await stream.DisposeAsync();
        }
    }

    private static async Task<SseConnection> OpenWithBearerAsync(TestApp app, string token)
    {
        var client = app.CreateH2cClient(token);
        return await SseConnection.OpenAsync(client);
    }

    /// <summary>The status (null when the server reset the request or closed the connection) and all text shown.</summary>
    private static async Task<(HttpStatusCode? Status, string Text)> TryGetAsync(HttpClient client, string pathAndQuery, string? bearer = null)
    {
        try
        {
            var answer = await Requests.GetAsync(client, pathAndQuery, bearer);
            return (answer.Status, answer.AllText);
        }
        catch (HttpRequestException ex)
        {
            return (null, ex.ToString());
        }
    }
}
