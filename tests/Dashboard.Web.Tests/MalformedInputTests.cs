using System.Net;
using System.Text;
using Dashboard.Web.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Dashboard.Web.Tests;

/// <summary>The BFF's bodies, malformed every way a client can: a 4xx problem answer each, never a 5xx or an error log.</summary>
public sealed class MalformedInputTests
{
    private readonly DevelopmentIssuer _issuer = DevelopmentIssuer.CreateRandom();

    /// <summary>Content type and body (Latin-1 bytes) of a POST that no BFF endpoint can accept.</summary>
    public static TheoryData<string, string> MalformedBodies() => new()
    {
        { "application/json", "{" },
        { "application/json", "[]" },
        { "application/json", "{\"userName\":5,\"path\":5}" },
        { "application/json", "{\"path\":\"\\ud800\",\"userName\":\"\\ud800\"}" },
        { "application/json", "nul" },
        { "application/json", "\u00ff\u00fe{}" },
        { "application/json", new string('[', 200) + new string(']', 200) },
        { "application/json; charset=utf-16", "{}" },
        { "application/json; charset=nonsense", "{}" },
        { "multipart/form-data", "--x\r\n" },
        { "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n" },
        { "application/x-www-form-urlencoded", "userName=%ZZ&&=&" + new string('a', 5000) },
        { "text/plain", "ada" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task A_malformed_body_is_a_4xx_on_every_BFF_post(string contentType, string body)
    {
        await using var upstream = await TicketUpstream.StartAsync(_issuer);
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var browser = app.CreateBrowser();
        await browser.SignInAsync("ada");

        foreach (var path in (string[])["/bff/login", "/bff/stream-ticket"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.Latin1.GetBytes(body)) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            request.Headers.Add("X-XSRF-TOKEN", await browser.GetAntiforgeryTokenAsync());
            using var response = await browser.SendAsync(request);

            var text = await response.Content.ReadAsStringAsync();
            // A body the ticket endpoint ignores (not JSON) asks for the default stream: 200.
            Assert.True((int)response.StatusCode is >= 400 and < 500 || (path == "/bff/stream-ticket" && response.StatusCode == HttpStatusCode.OK),
                $"{path} {contentType}: {(int)response.StatusCode} {text}");
            if ((int)response.StatusCode >= 400)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        var errors = app.Logs.GetSnapshot().Where(record => record.Level >= LogLevel.Error).Select(record => record.Exception?.ToString() ?? record.Message).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }
}
