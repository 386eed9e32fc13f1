using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Edge.Proxy.Tests.Infrastructure;
using Metrics.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Edge.Proxy.Tests;

/// <summary>
/// The real edge in front of the real Metrics.Api, as the AppHost runs them: the edge multiplexes every user's stream
/// over one h2c connection to the API, whose Kestrel ends that connection over one oversized header. Whatever one
/// client sends (header sizes, counts, encodings, bodies, over HTTP/1.1, h2 or h2c), it gets a 4xx, never a 5xx, and
/// another user's stream, held open through the edge meanwhile, is still delivering afterwards.
/// </summary>
public sealed class IsolationTests(IsolationTests.EdgeAndApi system, ITestOutputHelper output) : IClassFixture<IsolationTests.EdgeAndApi>
{
    private const int FieldLimit = 16 * 1024;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    public static TheoryData<string> Protocols() => [ClientProtocol.Http2Tls, ClientProtocol.H2c, ClientProtocol.Http11];

    /// <summary>The issue's cases and their neighbours: one header over the API's limit, or too many, or too much in total.</summary>
    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Oversized_headers_are_refused_at_the_edge_and_another_users_stream_lives_on(string protocol)
    {
        await using var neighbour = await OpenNeighbourAsync();
        var (client, baseUrl) = ClientProtocol.For(protocol, system.Edge);
        using var _ = client;
        var big = new string('a', FieldLimit + 600);

        var cases = new (string Name, HttpMethod Method, string Path, Action<HttpRequestMessage> Configure, HttpStatusCode Expected)[]
        {
            ("Authorization over 16 KB", HttpMethod.Get, "/api/stream/metrics", r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + big), HttpStatusCode.RequestHeaderFieldsTooLarge),
            ("Authorization over 16 KB, ticket request", HttpMethod.Post, "/api/stream/tickets", r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + big), HttpStatusCode.RequestHeaderFieldsTooLarge),
            ("a header over 16 KB", HttpMethod.Get, "/api/instance", r => r.Headers.TryAddWithoutValidation("X-Filler", big), HttpStatusCode.RequestHeaderFieldsTooLarge),
            ("a header name over 16 KB", HttpMethod.Get, "/api/instance", r => r.Headers.TryAddWithoutValidation("x" + big, "v"), HttpStatusCode.RequestHeaderFieldsTooLarge),
            ("33 KB in three headers", HttpMethod.Get, "/api/instance", r => AddFillers(r, 3, 11 * 1024), HttpStatusCode.RequestHeaderFieldsTooLarge),
            ("120 headers", HttpMethod.Get, "/api/instance", r => AddFillers(r, 120, 4), HttpStatusCode.RequestHeaderFieldsTooLarge),
            // The API never reads cookies, so on /api they are not forwarded at all, however large.
            ("a cookie over 16 KB", HttpMethod.Get, "/api/instance", r => r.Headers.TryAddWithoutValidation("Cookie", "session=" + big), HttpStatusCode.OK),
            ("a 40 KB split sign-in cookie", HttpMethod.Get, "/api/instance", r => AddSplitCookie(r, 10, 4000), HttpStatusCode.OK),
            ("a cookie over 16 KB, no credentials", HttpMethod.Get, "/api/stream/metrics", r => r.Headers.TryAddWithoutValidation("Cookie", "session=" + big), HttpStatusCode.Unauthorized),
        };

        foreach (var (name, method, path, configure, expected) in cases)
        {
            var answer = await SendAsync(client, method, new Uri(baseUrl, path), configure);
            output.WriteLine($"{protocol} {name}: {answer}");
            Assert.True(answer.Status == expected, $"{name}: expected {(int)expected}, got {answer}");
            AssertProblemIfRefused(answer, name);
            await AssertAliveAsync(neighbour, name);
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_path_longer_than_the_API_reads_is_414_and_another_users_stream_lives_on(string protocol)
    {
        await using var neighbour = await OpenNeighbourAsync();
        var (client, baseUrl) = ClientProtocol.For(protocol, system.Edge);
        using var _ = client;

        var answer = await SendAsync(client, HttpMethod.Get, new Uri(baseUrl, "/api/instance?q=" + new string('q', FieldLimit + 10)));

        Assert.True(answer.Status == HttpStatusCode.RequestUriTooLong, answer.ToString());
        AssertProblemIfRefused(answer, "a long path");
        await AssertAliveAsync(neighbour, "a long path");
    }

    /// <summary>
    /// Around each limit, one byte or one field at a time: the edge forwards exactly what the API accepts (a field of
    /// 16384 bytes reaches it, 16385 is refused at the edge), and nothing in between gives a 5xx or ends a stream.
    /// </summary>
    [Fact]
    public async Task Header_sizes_and_counts_around_every_limit_never_give_a_5xx_nor_end_another_users_stream()
    {
        await using var neighbour = await OpenNeighbourAsync();
        using var client = Clients.Http2OverTls();
        var stream = new Uri(system.Edge.HttpsUrl, "/api/stream/metrics");
        var seen = new List<string>();

        for (var length = FieldLimit - 24; length <= FieldLimit + 24; length++)
        {
            var answer = await SendAsync(client, HttpMethod.Get, stream, r => r.Headers.TryAddWithoutValidation("X-Filler", new string('v', length)));
            // No credentials: an answer from the API is 401.
            var expected = length <= FieldLimit ? HttpStatusCode.Unauthorized : HttpStatusCode.RequestHeaderFieldsTooLarge;
            Assert.True(answer.Status == expected, $"value of {length} bytes: expected {(int)expected}, got {answer}");
        }

        await AssertAliveAsync(neighbour, "values around the field limit");

        for (var length = FieldLimit - 8; length <= FieldLimit + 8; length++)
        {
            var answer = await SendAsync(client, HttpMethod.Get, stream, r => r.Headers.TryAddWithoutValidation(new string('n', length), "v"));
            seen.Add($"name {length}: {answer}");
            AssertClientAnswer(answer, $"a name of {length} bytes");
        }

        await AssertAliveAsync(neighbour, "names around the field limit");

        // Totals across the 32 KiB limit, in two headers that are each well under the field limit.
        var totals = new HashSet<HttpStatusCode?>();
        for (var total = 31 * 1024; total <= 33 * 1024; total += 48)
        {
            var answer = await SendAsync(client, HttpMethod.Get, stream, r => AddFillers(r, 2, total / 2));
            totals.Add(answer.Status);
            AssertClientAnswer(answer, $"{total} bytes in two headers");
        }

        Assert.Equal(new HttpStatusCode?[] { HttpStatusCode.Unauthorized, HttpStatusCode.RequestHeaderFieldsTooLarge }, totals.Order());
        await AssertAliveAsync(neighbour, "totals around the total limit");

        var counts = new HashSet<HttpStatusCode?>();
        for (var count = 85; count <= 105; count++)
        {
            var answer = await SendAsync(client, HttpMethod.Get, stream, r => AddFillers(r, count, 2));
            counts.Add(answer.Status);
            AssertClientAnswer(answer, $"{count} headers");
        }

        Assert.Equal(new HttpStatusCode?[] { HttpStatusCode.Unauthorized, HttpStatusCode.RequestHeaderFieldsTooLarge }, counts.Order());
        await AssertAliveAsync(neighbour, "header counts around the count limit");

        // Paths across the API's request-line limit (8 KiB with method, scheme and host; over it Kestrel resets the stream).
        var paths = new HashSet<HttpStatusCode?>();
        foreach (var length in Enumerable.Range(8 * 1024 - 40, 80).Concat(Enumerable.Range(FieldLimit - 20, 40)))
        {
            var query = "/api/instance?q=";
            var answer = await SendAsync(client, HttpMethod.Get, new Uri(system.Edge.HttpsUrl, query + new string('q', length - query.Length)));
            paths.Add(answer.Status);
            AssertClientAnswer(answer, $"a path of {length} bytes");
        }

        Assert.Equal(new HttpStatusCode?[] { HttpStatusCode.OK, HttpStatusCode.RequestUriTooLong }, paths.Order());
        await AssertAliveAsync(neighbour, "paths around the request-line limit");

        // Trace context the edge re-sends upstream (it is rebuilt from the client's, so it counts too).
        foreach (var (header, value) in new[] { ("baggage", "k=" + new string('v', FieldLimit)), ("tracestate", "k=" + new string('v', FieldLimit)), ("baggage", string.Join(',', Enumerable.Range(0, 150).Select(i => $"k{i}=%20%20%20"))) })
        {
            var answer = await SendAsync(client, HttpMethod.Get, stream, r => r.Headers.TryAddWithoutValidation(header, value));
            AssertClientAnswer(answer, $"{header} of {value.Length} bytes");
        }

        await AssertAliveAsync(neighbour, "oversized trace context");
    }

    /// <summary>
    /// Header values as raw bytes: every non-ASCII byte, control characters, and UTF-8 that is no number. Kestrel's
    /// default decoding ends an HTTP/2 connection over a byte that is not UTF-8; the issue saw 502 for a non-ASCII
    /// Last-Event-ID through the edge where the API alone answers 400.
    /// </summary>
    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Header_values_in_any_encoding_are_answered_4xx_and_another_users_stream_lives_on(string protocol)
    {
        await using var neighbour = await OpenNeighbourAsync();
        var (client, baseUrl) = ClientProtocol.For(protocol, system.Edge, headerEncoding: Encoding.Latin1);
        using var _ = client;
        var stream = new Uri(baseUrl, "/api/stream/metrics");

        var oddBytes = Enumerable.Range(0x80, 0x80).Select(b => ((char)b).ToString())
            .Concat(Enumerable.Range(1, 0x1F).Where(b => b is not '\r' and not '\n' and not '\t').Select(b => $"1{(char)b}2"))
            .Append("\u007f")
            .Append(Encoding.Latin1.GetString(Encoding.UTF8.GetBytes("é")))
            .Append(Encoding.Latin1.GetString(Encoding.UTF8.GetBytes("１２３")))
            .Append(Encoding.Latin1.GetString(Encoding.UTF8.GetBytes("\U0001F600")))
            .Append(Encoding.Latin1.GetString([0xED, 0xA0, 0x80]))
            .ToList();
        foreach (var value in oddBytes)
        {
            var shown = Convert.ToHexString(Encoding.Latin1.GetBytes(value));
            var lastEventId = await SendAsync(client, HttpMethod.Get, stream, r =>
            {
                r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", system.AttackerToken);
                r.Headers.TryAddWithoutValidation("Last-Event-ID", value);
            });
            Assert.True(lastEventId.Status == HttpStatusCode.BadRequest, $"Last-Event-ID {shown}: {lastEventId}");
            AssertProblemIfRefused(lastEventId, $"Last-Event-ID {shown}");

            var bearer = await SendAsync(client, HttpMethod.Get, stream, r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + value));
            Assert.True(bearer.Status == HttpStatusCode.Unauthorized, $"Authorization {shown}: {bearer}");

            var other = await SendAsync(client, HttpMethod.Get, new Uri(baseUrl, "/api/instance"), r => r.Headers.TryAddWithoutValidation("X-Anything", value));
            Assert.True(other.Status == HttpStatusCode.OK, $"X-Anything {shown}: {other}");
        }

        await AssertAliveAsync(neighbour, $"{oddBytes.Count * 3} odd header values");
    }

    /// <summary>
    /// NUL is the one byte Kestrel refuses by ending the sender's own HTTP/2 connection, at the edge, before anything
    /// is proxied (RFC 9113 asks for a stream error): the sender loses its own connection, no one else's.
    /// </summary>
    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_NUL_in_a_header_costs_at_most_the_senders_own_connection(string protocol)
    {
        await using var neighbour = await OpenNeighbourAsync();
        var (client, baseUrl) = ClientProtocol.For(protocol, system.Edge, headerEncoding: Encoding.Latin1);
        using var _ = client;

        var answer = await SendAsync(client, HttpMethod.Get, new Uri(baseUrl, "/api/instance"), r => r.Headers.TryAddWithoutValidation("X-Anything", "a\0b"));

        output.WriteLine($"{protocol}: {answer}");
        Assert.True(answer.Status is null or HttpStatusCode.BadRequest, answer.ToString());
        await AssertAliveAsync(neighbour, "a NUL byte");
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"path\":5}")]
    [InlineData("{\"path\":\"\\ud800\"}")]
    [InlineData("nul")]
    public async Task A_malformed_ticket_request_is_a_4xx_problem_through_the_edge(string body)
    {
        await using var neighbour = await OpenNeighbourAsync();
        using var client = Clients.Http2OverTls();

        var answer = await SendAsync(client, HttpMethod.Post, new Uri(system.Edge.HttpsUrl, "/api/stream/tickets"), r =>
        {
            r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", system.AttackerToken);
            r.Content = new StringContent(body, Encoding.UTF8, "application/json");
        });

        Assert.True(answer.Status == HttpStatusCode.BadRequest, answer.ToString());
        AssertProblemIfRefused(answer, body);
        await AssertAliveAsync(neighbour, body);
    }

    /// <summary>The server decodes a parameter's name, so a ticket sent as <c>?tick%65t=</c> opens a stream through the edge.</summary>
    [Fact]
    public async Task A_ticket_under_an_encoded_name_opens_a_stream_and_no_answer_names_the_server()
    {
        using var client = Clients.Http2OverTls();
        var issued = await SendAsync(client, HttpMethod.Post, new Uri(system.Edge.HttpsUrl, "/api/stream/tickets"), r =>
            r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", system.AttackerToken));
        Assert.Equal(HttpStatusCode.OK, issued.Status);
        var ticket = System.Text.Json.JsonDocument.Parse(issued.Body).RootElement.GetProperty("ticket").GetString();

        await using var stream = await SseConnection.ConnectAsync(client, Clients.Raw(system.Edge.HttpsUrl, $"/api/stream/metrics?tick%65t={ticket}"));
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        await stream.ReadUntilAsync("ready", Step);

        var refused = await SendAsync(client, HttpMethod.Get, new Uri(system.Edge.HttpsUrl, "/api/instance"), r => AddFillers(r, 120, 4));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refused.Status);
        Assert.All(new[] { issued, refused }, a => Assert.False(a.Headers.Contains("Server"), $"Server: {string.Join(",", a.Headers.Server)}"));
        Assert.False(stream.Response.Headers.Contains("Server"));
    }

    /// <summary>
    /// Why the limits must agree: an edge that forwards more than the API reads lets one oversized header end the
    /// shared connection, and with it another user's stream. If this stops failing the API's way, its limits changed.
    /// </summary>
    [Fact]
    public async Task An_edge_whose_limits_exceed_the_APIs_lets_one_header_end_another_users_stream()
    {
        await using var loose = await EdgeHost.StartAsync(system.Settings(s =>
        {
            s["Edge:Proxy:UpstreamLimits:MaxRequestHeaderFieldSize"] = (64 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
            // One upstream connection, so the bad request certainly shares the neighbour's (with several it might not).
            s["Edge:Proxy:UpstreamConnections"] = "1";
        }));
        using var neighbourClient = Clients.Http2OverTls();
        await using var neighbour = await OpenNeighbourAsync(neighbourClient, loose);
        using var client = Clients.Http2OverTls();

        var answer = await SendAsync(client, HttpMethod.Get, new Uri(loose.HttpsUrl, "/api/instance"), r => r.Headers.TryAddWithoutValidation("X-Filler", new string('a', FieldLimit + 1)));

        Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
        var delivering = true;
        var watching = Stopwatch.StartNew();
        try
        {
            while (watching.Elapsed < Step)
            {
                if (await neighbour.ReadAsync(Step) is null)
                {
                    delivering = false;
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            output.WriteLine($"The neighbour's stream: {e.GetType().Name}: {e.Message}");
            delivering = false;
        }

        Assert.False(delivering, "The neighbour's stream outlived a header the API refuses; has the API's field limit changed?");
    }

    private Task<SseConnection> OpenNeighbourAsync() => OpenNeighbourAsync(system.NeighbourClient, system.Edge);

    /// <summary>Another user's stream through the edge, with its own access token and its own connection.</summary>
    private static async Task<SseConnection> OpenNeighbourAsync(HttpClient client, EdgeHost edge)
    {
        var token = TestTokens.Access("neighbour", expires: DateTimeOffset.UtcNow.AddHours(1));
        var neighbour = await SseConnection.ConnectAsync(
            client, new Uri(edge.HttpsUrl, "/api/stream/metrics"), r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        Assert.Equal(HttpStatusCode.OK, neighbour.Response.StatusCode);
        await neighbour.ReadUntilAsync("ready", Step);
        return neighbour;
    }

    /// <summary>
    /// Alive means delivering now: events already buffered say nothing about the connection, so the stream must
    /// deliver a ping that was waited for (pings come every 200 ms).
    /// </summary>
    private static async Task AssertAliveAsync(SseConnection neighbour, string after)
    {
        var checking = Stopwatch.StartNew();
        while (checking.Elapsed < Step)
        {
            var waited = Stopwatch.StartNew();
            System.Net.ServerSentEvents.SseItem<string>? item;
            try
            {
                item = await neighbour.ReadAsync(Step);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"Another user's stream died after {after}: {e.GetType().Name}: {e.Message}");
            }

            Assert.True(item is not null, $"Another user's stream ended after {after}.");
            if (item.Value.EventType == "ping" && waited.Elapsed >= MetricsApiHost.HeartbeatInterval / 4)
            {
                return;
            }
        }

        Assert.Fail($"Another user's stream delivered no fresh ping within {Step} after {after}.");
    }

    private static void AssertClientAnswer(Answer answer, string what) =>
        Assert.True(answer.Status is { } status && (int)status is >= 200 and < 500, $"{what}: {answer}");

    private static void AssertProblemIfRefused(Answer answer, string what)
    {
        if (answer.Status is { } status && (int)status >= 400 && status != HttpStatusCode.Unauthorized)
        {
            Assert.True(answer.ContentType == "application/problem+json", $"{what}: {answer}");
        }
    }

    private static void AddFillers(HttpRequestMessage request, int count, int length)
    {
        for (var i = 0; i < count; i++)
        {
            request.Headers.TryAddWithoutValidation($"X-Filler-{i}", new string('f', length));
        }
    }

    /// <summary>A sign-in cookie split into chunks, as ASP.NET Core's cookie handler writes a large one.</summary>
    private static void AddSplitCookie(HttpRequestMessage request, int chunks, int length) =>
        request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", Enumerable.Range(1, chunks).Select(i => $".AspNetCore.CookiesC{i}={new string('c', length)}")));

    /// <summary>Sends and reads the whole answer; a reset or closed connection is an answer too (no status).</summary>
    private static async Task<Answer> SendAsync(HttpClient client, HttpMethod method, Uri url, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, url) { Version = client.DefaultRequestVersion, VersionPolicy = client.DefaultVersionPolicy };
        configure?.Invoke(request);
        using var timeout = new CancellationTokenSource(Step);
        try
        {
            using var response = await client.SendAsync(request, timeout.Token);
            return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(timeout.Token), response.Headers);
        }
        catch (HttpRequestException e)
        {
            return new Answer(null, null, $"{e.HttpRequestError}: {e.Message}", null!);
        }
    }

    private sealed record Answer(HttpStatusCode? Status, string? ContentType, string Body, HttpResponseHeaders Headers)
    {
        public override string ToString() => Status is { } status ? $"{(int)status} {ContentType} {Body[..Math.Min(Body.Length, 200)]}" : $"no answer ({Body})";
    }

    /// <summary>One system for the class: a dashboard stand-in, the real API, the real edge in front of both.</summary>
    public sealed class EdgeAndApi : IAsyncLifetime
    {
        public SseUpstream Dashboard { get; private set; } = null!;

        public MetricsApiHost Api { get; private set; } = null!;

        public EdgeHost Edge { get; private set; } = null!;

        /// <summary>The neighbours' browser: one connection of its own to the edge.</summary>
        public HttpClient NeighbourClient { get; } = Clients.Http2OverTls();

        /// <summary>A valid token of the user who sends the bad requests.</summary>
        public string AttackerToken { get; } = TestTokens.Access("attacker", expires: DateTimeOffset.UtcNow.AddHours(1));

        public Dictionary<string, string?> Settings(Action<Dictionary<string, string?>>? configure = null)
        {
            var settings = EdgeHost.SettingsFor(Dashboard);
            settings["services:metrics-api:h2c:0"] = Api.H2cUrl.ToString();
            configure?.Invoke(settings);
            return settings;
        }

        public async Task InitializeAsync()
        {
            Dashboard = await SseUpstream.StartAsync("dashboard");
            Api = await MetricsApiHost.StartAsync();
            Edge = await EdgeHost.StartAsync(Settings());
        }

        public async Task DisposeAsync()
        {
            NeighbourClient.Dispose();
            await Edge.DisposeAsync();
            await Api.DisposeAsync();
            await Dashboard.DisposeAsync();
        }
    }
}
