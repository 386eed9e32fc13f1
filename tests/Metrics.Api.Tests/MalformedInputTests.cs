using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;

namespace Metrics.Api.Tests;

/// <summary>
/// Bad input, sent straight to the service over one h2c connection as the edge would multiplex it: every malformed
/// body or header value is a 4xx problem answer (never a 5xx, never an error log), and another stream on the same
/// connection lives on through all of it.
/// </summary>
public class MalformedInputTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    /// <summary>Bodies of <c>POST /api/stream/tickets</c>, sent as JSON, that the endpoint cannot accept.</summary>
    public static TheoryData<string> MalformedTicketBodies() =>
    [
        "{",
        "[]",
        "{\"path\":5}",
        "{\"path\":[\"/api/stream/metrics\"]}",
        "{\"path\":{}}",
        "{\"path\":true}",
        "\"/api/stream/metrics\"",
        "5",
        "nul",
        "{\"path\":\"/api/stream/metrics\"",
        "{\"path\":\"/api/stream/metrics\",}",
        "{'path':'/api/stream/metrics'}",
        "{\"path\":\"\\ud800\"}",
        "{\"path\":\"\\u0000\"}",
        "{\"path\":\"/api/stream/metrics\\r\\nX: y\"}",
        "{\"path\":\"/api/stream/other\"}",
        new string('[', 200) + new string(']', 200),
        "{\"path\":\"" + new string('a', 2000) + "\"}",
    ];

    [Theory]
    [MemberData(nameof(MalformedTicketBodies))]
    public async Task A_malformed_ticket_request_body_is_a_4xx_problem_and_the_neighbouring_stream_lives_on(string body)
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Streaming:HeartbeatInterval"] = "00:00:00.100" });
        using var client = SingleConnectionH2c(app.H2cAddress);
        await using var neighbour = await OpenNeighbourAsync(client);

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var answer = await Requests.SendAsync(client, HttpMethod.Post, "/api/stream/tickets", TestTokens.DefaultAccessToken, content: content);

        AssertProblem(answer);
        await AssertAliveAsync(neighbour);
        Assert.Empty(app.Logs.Errors);
    }

    /// <summary>Content type, body (as Latin-1 bytes), and the status expected (0: any 4xx).</summary>
    public static TheoryData<string, string, int> OtherTicketBodies() => new()
    {
        { "text/plain", "{}", 415 },
        { "application/x-www-form-urlencoded", "path=%2Fapi%2Fstream%2Fmetrics", 415 },
        { "application/json; charset=utf-16", "{}", 0 },
        { "application/json", "\u00ff\u00fe{}", 400 },
        { "application/json", "{\"path\":\"/api/stream/metrics\",\"pad\":\"" + new string(' ', 1100) + "\"}", 413 },
    };

    [Theory]
    [MemberData(nameof(OtherTicketBodies))]
    public async Task A_ticket_request_body_of_another_type_or_encoding_is_a_4xx_problem(string contentType, string body, int expected)
    {
        await using var app = await TestApp.StartAsync();
        using var client = SingleConnectionH2c(app.H2cAddress);

        using var content = new ByteArrayContent(Encoding.Latin1.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var answer = await Requests.SendAsync(client, HttpMethod.Post, "/api/stream/tickets", TestTokens.DefaultAccessToken, content: content);

        AssertProblem(answer);
        Assert.True(expected == 0 || (int)answer.Status == expected, $"expected {expected}, got {answer.Status}");
        Assert.Empty(app.Logs.Errors);
    }

    [Fact]
    public async Task Bodies_the_endpoint_accepts_still_issue_a_ticket()
    {
        await using var app = await TestApp.StartAsync();
        using var client = SingleConnectionH2c(app.H2cAddress);

        foreach (var body in new[] { "{}", "null", "{\"path\":null}", "{\"path\":\"/api/stream/metrics\",\"extra\":1}", "\uFEFF{}" })
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            var answer = await Requests.SendAsync(client, HttpMethod.Post, "/api/stream/tickets", TestTokens.DefaultAccessToken, content: content);
            Assert.True(answer.Status == HttpStatusCode.OK, $"{body}: {answer.Status} {answer.Body}");
        }
    }

    /// <summary>
    /// A POST with no body and no Content-Type, framed as <c>Content-Length: 0</c> (browsers' fetch, and YARP for some
    /// body-less requests) or as an empty DATA frame of unknown length: no body, so the default ticket. Minimal APIs'
    /// own binding answers the first 415.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_empty_body_without_a_content_type_is_no_body(bool lengthKnown)
    {
        await using var app = await TestApp.StartAsync();
        using var client = SingleConnectionH2c(app.H2cAddress);
        using HttpContent content = lengthKnown ? new ByteArrayContent([]) : new UnknownLengthContent();

        var answer = await Requests.SendAsync(client, HttpMethod.Post, "/api/stream/tickets", TestTokens.DefaultAccessToken, content: content);

        Assert.True(answer.Status == HttpStatusCode.OK, $"{answer.Status} {answer.Body}");
    }

    /// <summary>Content whose length the client cannot know up front: sent without Content-Length.</summary>
    private sealed class UnknownLengthContent : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => Task.CompletedTask;

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>
    /// Header values in encodings the service never issues, on the header it parses (Last-Event-ID), the one it
    /// authenticates with, and one it ignores. Sent as raw Latin-1 bytes (so 0xFF is one byte, invalid UTF-8) or as UTF-8.
    /// </summary>
    [Theory]
    [InlineData("Last-Event-ID", "\u00ff", "latin1")]
    [InlineData("Last-Event-ID", "1\u00e9", "latin1")]
    [InlineData("Last-Event-ID", "é", "utf-8")]
    [InlineData("Last-Event-ID", "１２３", "utf-8")]
    [InlineData("Last-Event-ID", "1\u00a02", "utf-8")]
    [InlineData("Last-Event-ID", "1\u0001", "latin1")]
    [InlineData("Last-Event-ID", "1\u007f", "latin1")]
    [InlineData("Last-Event-ID", "\u00c3\u00a9", "latin1")]
    [InlineData("Authorization", "Bearer \u00ff\u00fe", "latin1")]
    [InlineData("Authorization", "Bearer é", "utf-8")]
    [InlineData("X-Anything", "\u00ff\u00fe\u00fd", "latin1")]
    public async Task A_header_value_in_any_encoding_is_answered_and_never_ends_the_shared_connection(string header, string value, string encoding)
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Streaming:HeartbeatInterval"] = "00:00:00.100" });
        var bytes = encoding == "latin1" ? Encoding.Latin1 : Encoding.UTF8;
        using var client = SingleConnectionH2c(app.H2cAddress, bytes);
        await using var neighbour = await OpenNeighbourAsync(client);

        var answer = await Requests.GetAsync(
            client,
            SseConnection.StreamPath,
            bearer: header == "Authorization" ? null : TestTokens.DefaultAccessToken,
            configure: request => Assert.True(request.Headers.TryAddWithoutValidation(header, value)));

        if (header == "X-Anything")
        {
            Assert.Equal(HttpStatusCode.OK, answer.Status);
        }
        else
        {
            AssertProblemOrChallenge(answer);
        }

        await AssertAliveAsync(neighbour);
        Assert.Empty(app.Logs.Errors);
    }

    /// <summary>One HTTP/2 connection for every request, as YARP multiplexes them.</summary>
    private static HttpClient SingleConnectionH2c(Uri address, Encoding? headerEncoding = null)
    {
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false };
        if (headerEncoding is not null)
        {
            handler.RequestHeaderEncodingSelector = (_, _) => headerEncoding;
        }

        return new HttpClient(handler)
        {
            BaseAddress = address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Another user's stream on the same connection; its 100 ms heartbeats show it is alive.</summary>
    private static async Task<SseConnection> OpenNeighbourAsync(HttpClient client)
    {
        var token = TestTokens.Access("neighbour", expires: DateTimeOffset.UtcNow.AddHours(1));
        var neighbour = await SseConnection.OpenAsync(
            client, configure: request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        await neighbour.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        return neighbour;
    }

    private static async Task AssertAliveAsync(SseConnection neighbour)
    {
        // Two heartbeats after the bad request: the stream still delivers, so its connection is still open.
        await neighbour.ReadUntilAsync(ControlEvents.PingType, s_wait);
        await neighbour.ReadUntilAsync(ControlEvents.PingType, s_wait);
    }

    private static void AssertProblem(Answer answer)
    {
        Assert.True((int)answer.Status is >= 400 and < 500, $"{answer.Status}: {answer.Body}");
        Assert.Equal("application/problem+json", answer.ContentHeaders?.ContentType?.MediaType);
    }

    private static void AssertProblemOrChallenge(Answer answer)
    {
        Assert.True(answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{answer.Status}: {answer.Body}");
        if (answer.Status == HttpStatusCode.BadRequest)
        {
            Assert.Equal("application/problem+json", answer.ContentHeaders?.ContentType?.MediaType);
        }
    }
}
