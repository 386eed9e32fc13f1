using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AppHost.Tests.Infrastructure;
using AppHost.Tests.Otlp;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AppHost.Tests;

/// <summary>
/// The whole system, as <c>dotnet run --project AppHost</c> starts it, exporting OTLP to a receiver in the test (the
/// endpoint Aspire hands every service) and logging at Debug, with OpenTelemetry's own URL redaction switched off as
/// Aspire's AppHost does in Development.
/// Stream tickets and access tokens, valid and forged, go through the edge; none of them may appear in any line any
/// process printed or in any byte any process exported. A harmless query value sent the same way must appear in
/// both, which proves the search would find a leak.
/// </summary>
[Collection(WholeSystemGroup.Name)]
public sealed class LeakSentinelTests(LeakSentinelTests.SystemRun run, ITestOutputHelper output) : IClassFixture<LeakSentinelTests.SystemRun>
{
    [Fact]
    public void A_valid_ticket_flow_went_through_the_edge_end_to_end()
    {
        foreach (var resource in run.Lines.GroupBy(l => l.ResourceName))
        {
            output.WriteLine($"{resource.Key}: {resource.Count()} output lines");
        }

        foreach (var signal in run.Otlp.Exports.GroupBy(e => e.Signal))
        {
            output.WriteLine($"OTLP {signal.Key}: {signal.Count()} exports, {signal.Sum(e => e.Body.Length)} bytes");
        }

        Assert.Equal(HttpStatusCode.OK, run.TicketStatus);
        Assert.Equal(["ready", "metrics"], run.StreamEvents);
        Assert.Equal(HttpStatusCode.Unauthorized, run.ReplayStatus);
        Assert.All(run.RefusedStatuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        // A real ticket under ?tick%65t= opens a stream (the server decodes the name), so its redaction matters.
        Assert.Equal(HttpStatusCode.OK, run.SpelledTicketStatus);
        Assert.Equal(5, run.OtherStatuses.Count);
        Assert.All(run.OtherStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public void Both_services_get_the_same_development_issuer_and_only_Metrics_Api_gets_the_ticket_key()
    {
        var api = run.Environments["metrics-api"];
        var web = run.Environments["dashboard-web"];
        var edge = run.Environments["edge-proxy"];

        Assert.Equal(run.DevelopmentKeyBase64, api["DevelopmentIssuer__SigningKey"]);
        Assert.Equal(run.DevelopmentKeyBase64, web["DevelopmentIssuer__SigningKey"]);
        foreach (var environment in new[] { api, web })
        {
            Assert.Equal(DevelopmentAccessTokens.Issuer, environment["DevelopmentIssuer__Issuer"]);
            Assert.Equal(DevelopmentAccessTokens.Audience, environment["DevelopmentIssuer__Audience"]);
        }

        // Generated for the run (not configured here): random, at least 32 bytes, not the development key.
        var ticketKey = api["StreamTickets__SigningKey"];
        Assert.True(Convert.FromBase64String(ticketKey).Length >= 32);
        Assert.NotEqual(run.DevelopmentKeyBase64, ticketKey);
        Assert.False(web.ContainsKey("StreamTickets__SigningKey"));
        Assert.False(edge.ContainsKey("StreamTickets__SigningKey"));
        Assert.False(edge.ContainsKey("DevelopmentIssuer__SigningKey"));
    }

    [Fact]
    public void The_search_finds_an_unprotected_query_value_in_process_output_and_in_every_otlp_signal_it_reaches()
    {
        Assert.Contains(run.Lines, l => l.ResourceName == "edge-proxy" && l.Text.Contains(run.Control, StringComparison.Ordinal));
        Assert.Contains(run.Lines, l => l.ResourceName == "metrics-api" && l.Text.Contains(run.Control, StringComparison.Ordinal));
        Assert.Contains(run.Lines, l => l.ResourceName == "dashboard-web" && l.Text.Contains(run.DashboardControl, StringComparison.Ordinal));
        Assert.NotEmpty(run.Otlp.Containing(run.Control, "logs"));
        Assert.NotEmpty(run.Otlp.Containing(run.Control, "traces"));
        Assert.NotEmpty(run.Otlp.Containing(run.DashboardControl, "traces"));

        // ...and it sees the protected parameters' names, with their values redacted.
        Assert.Contains(run.Lines, l => l.Text.Contains("ticket=[redacted]", StringComparison.Ordinal));
        Assert.NotEmpty(run.Otlp.Containing("ticket=[redacted]", "logs"));
        Assert.NotEmpty(run.Otlp.Containing("ticket=[redacted]", "traces"));
    }

    [Fact]
    public void No_ticket_or_token_appears_in_any_process_output_line()
    {
        Assert.All(run.Lines.GroupBy(l => l.ResourceName), g => Assert.True(g.Count() < 20_000, $"{g.Key}'s output was truncated"));
        foreach (var (name, secret) in run.Secrets)
        {
            var leaked = run.Lines.Where(l => l.Text.Contains(secret, StringComparison.Ordinal)).Select(l => $"{l.ResourceName}: {l.Text}").ToList();
            Assert.True(leaked.Count == 0, $"{name} leaked:\n{string.Join('\n', leaked.Take(5))}");
        }
    }

    [Fact]
    public void No_ticket_or_token_appears_in_any_otlp_export()
    {
        Assert.Contains(run.Otlp.Exports, e => e.Signal == "traces");
        Assert.Contains(run.Otlp.Exports, e => e.Signal == "logs");
        Assert.Contains(run.Otlp.Exports, e => e.Signal == "metrics");
        foreach (var (name, secret) in run.Secrets)
        {
            var leaked = run.Otlp.Containing(secret).Select(e => e.Signal).ToList();
            Assert.True(leaked.Count == 0, $"{name} leaked to OTLP {string.Join(", ", leaked)}");
        }
    }

    [Fact]
    public void The_stream_meter_and_the_edge_meter_reach_the_otlp_endpoint_Aspire_gives_the_services()
    {
        string[] instruments =
        [
            "sse.server.active_streams", "sse.server.stream.cleanups", "sse.server.stream.duration", "sse.server.events.sent",
            "edge.proxy.ended_streams", "edge.proxy.forwarder.requests",
        ];
        foreach (var instrument in instruments)
        {
            Assert.True(run.Otlp.Containing(instrument, "metrics").Any(), $"{instrument} was never exported");
        }

        // The one stream of the run ended when the test stopped reading: counted by reason.
        Assert.NotEmpty(run.Otlp.Containing("sse.stream.end_reason", "metrics"));
        Assert.NotEmpty(run.Otlp.Containing("client_disconnect", "metrics"));
        Assert.Equal("http/protobuf", run.Environments["metrics-api"]["OTEL_EXPORTER_OTLP_PROTOCOL"]);

        // Traces of the ticket request and of the stream, from both hops.
        foreach (var service in new[] { "edge-proxy", "metrics-api" })
        {
            foreach (var path in new[] { "/api/stream/tickets", "/api/stream/metrics" })
            {
                Assert.True(run.Otlp.Containing(path, "traces").Any(e => e.Contains(service)), $"no span of {path} from {service}");
            }
        }
        Assert.Equal(run.Otlp.Endpoint.ToString().TrimEnd('/'), run.Environments["metrics-api"]["OTEL_EXPORTER_OTLP_ENDPOINT"].TrimEnd('/'));
    }

    /// <summary>Starts the system once, sends everything, waits for the exports, stops it: the tests read the record.</summary>
    public sealed class SystemRun : IAsyncLifetime
    {
        private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
        private readonly DevelopmentAccessTokens _tokens = new();

        public RawOtlpReceiver Otlp { get; private set; } = null!;

        public IReadOnlyList<OutputLine> Lines { get; private set; } = [];

        /// <summary>Values that must appear nowhere, by what they are.</summary>
        public Dictionary<string, string> Secrets { get; } = [];

        public string Control { get; } = $"CONTROL{Guid.NewGuid():N}";

        public string DashboardControl { get; } = $"CONTROLWEB{Guid.NewGuid():N}";

        public HttpStatusCode TicketStatus { get; private set; }

        public List<string> StreamEvents { get; } = [];

        public HttpStatusCode ReplayStatus { get; private set; }

        public HttpStatusCode SpelledTicketStatus { get; private set; }

        public List<HttpStatusCode> OtherStatuses { get; } = [];

        public List<HttpStatusCode> RefusedStatuses { get; } = [];

        public string DevelopmentKeyBase64 => _tokens.KeyBase64;

        /// <summary>What each service process really received (/proc/PID/environ).</summary>
        public Dictionary<string, Dictionary<string, string>> Environments { get; } = [];

        public async Task InitializeAsync()
        {
            Otlp = await RawOtlpReceiver.StartAsync();
            await using var system = await TestSystem.StartAsync(
                [
                    $"--ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL={Otlp.Endpoint.ToString().TrimEnd('/')}",
                    _tokens.AppHostArgument,
                ],
                builder =>
                {
                    // No gRPC endpoint (the launch profile names the dashboard's), so Aspire hands out the OTLP/HTTP one.
                    builder.Configuration["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = null;
                    foreach (var project in builder.Resources.OfType<ProjectResource>())
                    {
                        builder.CreateResourceBuilder(project)
                            // As verbose as someone chasing a bug would make it: every request line, every proxy hop.
                            .WithEnvironment("Logging__LogLevel__Default", "Debug")
                            .WithEnvironment("Logging__LogLevel__Microsoft.AspNetCore", "Debug")
                            .WithEnvironment("Logging__LogLevel__Yarp", "Debug")
                            // What Aspire's AppHost sets for Development runs anyway: nothing but our redaction is left.
                            .WithEnvironment("OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION", "true")
                            .WithEnvironment("OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION", "true");
                    }
                });
            var app = system.App;
            foreach (var resource in TestSystem.Services)
            {
                var replica = Assert.Single(await system.ReplicasAsync(resource));
                Environments[resource] = ProcFs.ReadEnvironment(replica.ServiceProcessId);
            }

            // The signing keys are secrets too: never printed, never exported.
            Secrets["development issuer key"] = DevelopmentKeyBase64;
            Secrets["stream ticket key"] = Environments["metrics-api"]["StreamTickets__SigningKey"];
            using var edge = system.Edge();
            edge.Timeout = s_wait;

            await SendEverythingAsync(edge);

            // Wait until the harmless value has been exported as a span and a log record, then one more export
            // interval (the AppHost sets 1 s in Development) so every process has flushed what came with it.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (waited.Elapsed < s_wait && !(Otlp.Containing(Control, "traces").Any() && Otlp.Containing(Control, "logs").Any()))
            {
                await Task.Delay(200);
            }

            await Task.Delay(TimeSpan.FromSeconds(3));
            Lines = await OutputLine.ReadAllAsync(app);
        }

        public async Task DisposeAsync() => await Otlp.DisposeAsync();

        private async Task SendEverythingAsync(HttpClient edge)
        {
            // Forged and random tickets, through the edge, on the stream path and off it.
            var plain = $"SENTINEL{Guid.NewGuid():N}";
            var jwtShaped = DevelopmentAccessTokens.Jwt(
                new { alg = "HS256", typ = "metrics-stream+jwt" },
                new { iss = "metrics-api/stream-tickets", aud = "metrics-api/stream", sub = $"SENTINELSUB{Guid.NewGuid():N}", path = "/api/stream/metrics", jti = Guid.NewGuid().ToString("N"), exp = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds(), session_exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds() },
                RandomNumberGenerator.GetBytes(32));
            var offPath = $"SENTINELOFFPATH{Guid.NewGuid():N}";
            var accessTokenInQuery = $"SENTINELAT{Guid.NewGuid():N}";
            var dashboard = $"SENTINELWEB{Guid.NewGuid():N}";
            Secrets["plain sentinel ticket"] = plain;
            Secrets["JWT-shaped sentinel ticket"] = jwtShaped;
            Secrets["its signature"] = jwtShaped[(jwtShaped.LastIndexOf('.') + 1)..];
            Secrets["off-path ticket"] = offPath;
            Secrets["access_token in the query"] = accessTokenInQuery;
            Secrets["ticket sent to the dashboard"] = dashboard;

            RefusedStatuses.Add(await StatusAsync(edge, $"/api/stream/metrics?ticket={plain}"));
            RefusedStatuses.Add(await StatusAsync(edge, $"/api/stream/metrics?ticket={jwtShaped}"));
            await StatusAsync(edge, $"/api/instance?ticket={offPath}&access_token={accessTokenInQuery}&probe={Control}");
            await StatusAsync(edge, $"/?ticket={dashboard}&probe={DashboardControl}");

            // The valid flow: a development access token (as Dashboard.Web mints them) for a ticket, the ticket for a stream.
            var accessToken = _tokens.Mint("leak-test-user");
            Secrets["access token"] = accessToken;
            Secrets["access token signature"] = accessToken[(accessToken.LastIndexOf('.') + 1)..];

            (TicketStatus, var ticket) = await NewTicketAsync(edge, accessToken);
            Secrets["valid ticket"] = ticket;
            Secrets["valid ticket signature"] = ticket[(ticket.LastIndexOf('.') + 1)..];

            using (var cancel = new CancellationTokenSource(s_wait))
            {
                await using var stream = await SseConnection.OpenAsync(edge, $"/api/stream/metrics?ticket={ticket}", cancellationToken: cancel.Token);
                await foreach (var item in stream.ReadAllAsync())
                {
                    if (item.EventType is "ready" or "metrics" && !StreamEvents.Contains(item.EventType))
                    {
                        StreamEvents.Add(item.EventType);
                    }

                    if (StreamEvents.Contains("metrics"))
                    {
                        break;
                    }
                }
            }

            // The same ticket again: refused, and its value is in the refusal's path too.
            ReplayStatus = await StatusAsync(edge, $"/api/stream/metrics?ticket={ticket}");

            await SendOtherSpellingsAsync(edge, accessToken);
        }

        /// <summary>
        /// Every spelling of a parameter name the server decodes to <c>ticket</c> or <c>access_token</c>, and values that
        /// are on no list (redacted too: only harmless names such as <c>probe</c> are logged).
        /// </summary>
        private async Task SendOtherSpellingsAsync(HttpClient edge, string accessToken)
        {
            var (_, ticket) = await NewTicketAsync(edge, accessToken);
            Secrets["ticket sent as tick%65t"] = ticket;
            Secrets["its signature (tick%65t)"] = ticket[(ticket.LastIndexOf('.') + 1)..];
            SpelledTicketStatus = await StatusAsync(edge, $"/api/stream/metrics?tick%65t={ticket}");

            var encodedName = Secret("ticket sent as %74%69%63%6B%65%74", "SENTINELENC");
            var mixedCase = Secret("ticket sent as TiCk%45T", "SENTINELCASE");
            RefusedStatuses.Add(await StatusAsync(edge, $"/api/stream/metrics?%74%69%63%6B%65%74={encodedName}"));
            RefusedStatuses.Add(await StatusAsync(edge, $"/api/stream/metrics?TiCk%45T={mixedCase}"));

            OtherStatuses.Add(await StatusAsync(edge, $"/api/instance?access%5Ftoken={Secret("access token sent as access%5Ftoken", "SENTINELAT2")}&probe={Control}"));
            var jwtInToken = DevelopmentAccessTokens.Jwt(new { alg = "HS256" }, new { sub = Secret("sub of a JWT in ?token=", "SENTINELTOKSUB") }, RandomNumberGenerator.GetBytes(32));
            Secrets["JWT in ?token="] = jwtInToken;
            OtherStatuses.Add(await StatusAsync(edge, $"/api/instance?token={jwtInToken}"));
            OtherStatuses.Add(await StatusAsync(edge, $"/api/instance?{Secret("a parameter with no value", "SENTINELBARE")}"));
            OtherStatuses.Add(await StatusAsync(edge, $"/api/instance?probe=%3Fticket%3D{Secret("ticket nested in another value", "SENTINELNESTED")}"));
            OtherStatuses.Add(await StatusAsync(edge, $"/?returnUrl=%2Fapi%2Fstream%2Fmetrics%3Fticket%3D{Secret("ticket in a return URL", "SENTINELRETURN")}&probe={DashboardControl}"));
        }

        private string Secret(string name, string prefix) => Secrets[name] = $"{prefix}{Guid.NewGuid():N}";

        private static async Task<(HttpStatusCode Status, string Ticket)> NewTicketAsync(HttpClient edge, string accessToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/stream/tickets") { Content = JsonContent.Create(new { path = "/api/stream/metrics" }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            using var response = await edge.SendAsync(request);
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return (response.StatusCode, json.RootElement.GetProperty("ticket").GetString()!);
        }

        private static async Task<HttpStatusCode> StatusAsync(HttpClient edge, string pathAndQuery)
        {
            // Sent as written: by default the client would decode %65 to e before sending.
            var uri = new Uri($"{edge.BaseAddress!.GetLeftPart(UriPartial.Authority)}{pathAndQuery}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
            await using var answer = await SseConnection.ConnectAsync(edge, uri);
            return answer.Response.StatusCode;
        }
    }
}

/// <summary>One line a service printed, as Aspire's resource logger keeps it (what the dashboard's console view shows).</summary>
public sealed record OutputLine(string ResourceName, string Text)
{
    public static async Task<IReadOnlyList<OutputLine>> ReadAllAsync(DistributedApplication app)
    {
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var lines = new List<OutputLine>();
        foreach (var project in model.Resources.OfType<ProjectResource>())
        {
            await foreach (var batch in logs.GetAllAsync(project))
            {
                lines.AddRange(batch.Select(line => new OutputLine(project.Name, line.Content)));
            }
        }

        return lines;
    }
}
