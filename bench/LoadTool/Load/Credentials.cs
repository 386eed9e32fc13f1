using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace LoadTool.Load;

/// <summary>
/// Access tokens as the development issuer mints them (HS256, <c>typ: at+jwt</c>, sub/name/scope, iss, aud), one per
/// user (<c>user-0</c> … <c>user-N</c>) so that no user goes over the server's per-user stream limit; and, in ticket
/// mode, a fresh single-use stream ticket for every stream (<c>POST /api/stream/tickets</c> with the bearer token).
/// </summary>
public sealed class Credentials
{
    private readonly LoadOptions _options;
    private readonly SigningCredentials? _signing;
    private readonly Dictionary<int, string> _tokens = [];

    public Credentials(LoadOptions options)
    {
        _options = options;
        if (options.Auth != AuthMode.None)
        {
            var key = options.JwtKey ?? throw new ArgumentException("--jwt-key (base64) is required with --auth bearer or ticket.");
            _signing = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(key)), SecurityAlgorithms.HmacSha256);
        }
    }

    /// <summary>The user of stream number <paramref name="stream"/> (counted across every worker process).</summary>
    public int UserOf(int stream) => (_options.FirstStream + stream) / _options.StreamsPerUser;

    public string AccessToken(int user)
    {
        lock (_tokens)
        {
            if (_tokens.TryGetValue(user, out var token))
            {
                return token;
            }

            var now = DateTime.UtcNow;
            token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = _options.JwtIssuer,
                Audience = _options.JwtAudience,
                TokenType = "at+jwt",
                IssuedAt = now,
                NotBefore = now.AddSeconds(-5),
                Expires = now.AddHours(2),
                Subject = new ClaimsIdentity(
                [
                    new Claim("sub", $"user-{user}"),
                    new Claim("name", $"Bench user {user}"),
                    new Claim("scope", _options.JwtScope),
                ]),
                SigningCredentials = _signing,
            });
            _tokens[user] = token;
            return token;
        }
    }

    /// <summary>
    /// Builds the stream request: a bearer header, or a ticket in the query (fetched first), or nothing. Returns a
    /// failure cause instead of throwing when the ticket request is refused.
    /// </summary>
    public async Task<(HttpRequestMessage? Request, string? Failure)> CreateStreamRequestAsync(
        Transport transport, HttpMessageInvoker invoker, int user, CancellationToken cancellationToken)
    {
        var url = _options.Url;
        string? bearer = null;
        switch (_options.Auth)
        {
            case AuthMode.Bearer:
                bearer = AccessToken(user);
                break;
            case AuthMode.Ticket:
                var (ticket, failure) = await GetTicketAsync(transport, invoker, user, cancellationToken);
                if (ticket is null)
                {
                    return (null, failure);
                }

                var builder = new UriBuilder(url);
                var query = builder.Query.TrimStart('?');
                builder.Query = (query.Length > 0 ? query + "&" : "") + "ticket=" + Uri.EscapeDataString(ticket);
                url = builder.Uri;
                break;
        }

        var request = transport.CreateRequest(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return (request, null);
    }

    private async Task<(string? Ticket, string? Failure)> GetTicketAsync(Transport transport, HttpMessageInvoker invoker, int user, CancellationToken cancellationToken)
    {
        var ticketUrl = _options.TicketUrl ?? new Uri(_options.Url, "/api/stream/tickets");
        using var request = transport.CreateRequest(HttpMethod.Post, ticketUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken(user));
        request.Content = new StringContent(JsonSerializer.Serialize(new { path = _options.Url.AbsolutePath }), Encoding.UTF8, "application/json");
        using var response = await invoker.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return (null, $"ticket_http_{(int)response.StatusCode}");
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.TryGetProperty("ticket", out var ticket) && ticket.GetString() is { Length: > 0 } value
            ? (value, null)
            : (null, "ticket_missing");
    }
}
