using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace Dashboard.Web.Tests.Infrastructure;

/// <summary>
/// What a browser does with Dashboard.Web's cookies, over a plain-HTTP socket that stands for the
/// edge's hop: it keeps every cookie it is given (Secure ones included: the page itself is HTTPS at
/// the edge), sends them back, and says X-Forwarded-Proto: https as the edge does. Every Set-Cookie
/// it ever received is kept for assertions on the flags.
/// </summary>
public sealed class BrowserClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _throughEdge;
    private readonly Dictionary<string, string> _jar = new(StringComparer.Ordinal);

    public BrowserClient(Uri address, bool throughEdge)
    {
        _throughEdge = throughEdge;
        _http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public List<SetCookieHeaderValue> SetCookies { get; } = [];

    public IReadOnlyDictionary<string, string> Cookies => _jar;

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_throughEdge)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
            request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "localhost:7443");
        }

        if (_jar.Count > 0)
        {
            request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", _jar.Select(c => $"{c.Key}={c.Value}")));
        }

        var response = await _http.SendAsync(request);
        if (response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            foreach (var cookie in SetCookieHeaderValue.ParseList(values.ToList()))
            {
                SetCookies.Add(cookie);
                var name = cookie.Name.ToString();
                if (cookie.Expires is { } expires && expires < DateTimeOffset.UtcNow)
                {
                    _jar.Remove(name);
                }
                else
                {
                    _jar[name] = cookie.Value.ToString();
                }
            }
        }

        return response;
    }

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path));

    public async Task<string> GetAntiforgeryTokenAsync()
    {
        using var response = await GetAsync("/bff/antiforgery");
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("X-XSRF-TOKEN", body.GetProperty("headerName").GetString());
        return body.GetProperty("requestToken").GetString()!;
    }

    /// <summary>POST with JSON (or no body) and, unless null, the antiforgery header.</summary>
    public Task<HttpResponseMessage> PostAsync(string path, object? json, string? antiforgeryToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (json is not null)
        {
            request.Content = JsonContent.Create(json);
        }

        if (antiforgeryToken is not null)
        {
            request.Headers.Add("X-XSRF-TOKEN", antiforgeryToken);
        }

        return SendAsync(request);
    }

    /// <summary>The page's sign-in: antiforgery token, POST /bff/login, then a fresh token for the new user.</summary>
    public async Task<string> SignInAsync(string userName)
    {
        using var response = await PostAsync("/bff/login", new { userName }, await GetAntiforgeryTokenAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await GetAntiforgeryTokenAsync();
    }

    public void Dispose() => _http.Dispose();
}
