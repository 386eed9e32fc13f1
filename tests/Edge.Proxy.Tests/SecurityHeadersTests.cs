using System.Net;
using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

/// <summary>Browser security headers on the dashboard, HSTS outside Development, forwarded headers towards upstreams.</summary>
public sealed class SecurityHeadersTests
{
    [Fact]
    public async Task Dashboard_responses_carry_the_security_headers()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream, environment: "Production");
        using var client = Clients.Http2OverTls();

        using var response = await client.GetAsync(edge.HttpsUrl);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<title>dashboard</title>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var csp = Header(response, "Content-Security-Policy");
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("strict-origin-when-cross-origin", Header(response, "Referrer-Policy"));
    }

    [Fact]
    public async Task HSTS_is_sent_over_TLS_outside_Development_only()
    {
        await using var upstream = await SseUpstream.StartAsync();
        using var client = Clients.Http2OverTls();

        await using (var production = await EdgeHost.StartAsync(upstream, environment: "Production"))
        {
            using var overTls = await client.SendAsync(PublicHostRequest(production.HttpsUrl));
            Assert.Equal("max-age=31536000", Header(overTls, "Strict-Transport-Security"));

            using var http11 = Clients.Http11();
            using var cleartext = await http11.SendAsync(PublicHostRequest(production.HttpUrl, HttpVersion.Version11));
            Assert.False(cleartext.Headers.Contains("Strict-Transport-Security"));
        }

        await using (var development = await EdgeHost.StartAsync(upstream, environment: "Development"))
        {
            using var overTls = await client.SendAsync(PublicHostRequest(development.HttpsUrl));
            Assert.Equal(HttpStatusCode.OK, overTls.StatusCode);
            Assert.False(overTls.Headers.Contains("Strict-Transport-Security"));

            // Vite's dev server needs its inline preamble and HMR socket.
            Assert.Contains("connect-src 'self' ws: wss:", Header(overTls, "Content-Security-Policy"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Upstreams_get_forwarded_headers_set_by_the_edge_not_by_the_client()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var client = Clients.Http2OverTls();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(edge.HttpsUrl, "/api/echo/forwarded"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(upstream.Requests, r => r.Path == "/api/echo/forwarded").Headers;
        Assert.Equal("127.0.0.1", seen["X-Forwarded-For"]);
        Assert.Equal("https", seen["X-Forwarded-Proto"]);
        Assert.Equal(edge.HttpsUrl.Authority, seen["X-Forwarded-Host"]);
    }

    [Fact]
    public async Task Cookies_reach_the_dashboard_but_never_the_API_and_no_upstream_names_its_server()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        foreach (var path in (string[])["/api/echo/cookie", "/"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(edge.HttpsUrl, path)) { Version = HttpVersion.Version20 };
            request.Headers.TryAddWithoutValidation("Cookie", ".AspNetCore.Cookies=session; other=1");
            using var response = await client.SendAsync(request, timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // The stand-in's Kestrel sends one; the edge sends none of its own.
            Assert.False(response.Headers.Contains("Server"), $"{path}: Server {response.Headers.Server}");
        }

        await using (var stream = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, "/api/stream/metrics?id=cookie&end=1"), r => r.Headers.TryAddWithoutValidation("Cookie", ".AspNetCore.Cookies=session"), cancellationToken: timeout.Token))
        {
            await stream.ReadUntilAsync("ready", TimeSpan.FromSeconds(15));
            Assert.False(stream.Response.Headers.Contains("Server"));
        }

        Assert.False(Assert.Single(upstream.Requests, r => r.Path == "/api/echo/cookie").Headers.ContainsKey("Cookie"));
        Assert.False(upstream.Streams["cookie"].Request.Headers.ContainsKey("Cookie"));
        Assert.Equal(".AspNetCore.Cookies=session; other=1", Assert.Single(upstream.Requests, r => r.Path == "/").Headers["Cookie"]);
    }

    [Theory]
    [InlineData("MaxRequestHeaderFieldSize", "20000", "16384")]
    [InlineData("MaxRequestHeadersTotalSize", "70000", "65536")]
    [InlineData("MaxRequestHeaderCount", "300", "250")]
    [InlineData("MaxRequestLineSize", "16384", "8192")]
    public async Task Upstream_limits_larger_than_what_the_edge_reads_stop_start_up(string key, string forwarded, string read)
    {
        await using var upstream = await SseUpstream.StartAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => EdgeHost.StartAsync(upstream, settings =>
        {
            settings[$"Edge:Proxy:UpstreamLimits:{key}"] = forwarded;
            settings[$"Edge:Server:{key}"] = read;
        }));

        Assert.Contains($"Edge:Proxy:UpstreamLimits:{key}", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>HSTS is never sent to localhost or loopback addresses, so ask for a public-looking host.</summary>
    private static HttpRequestMessage PublicHostRequest(Uri baseUrl, Version? version = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, baseUrl)
        {
            Version = version ?? HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Host = "edge.example";
        return request;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.TryGetValues(name, out var values) ? values : []);
}
