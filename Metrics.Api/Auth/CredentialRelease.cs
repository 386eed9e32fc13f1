using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;

namespace Metrics.Api.Auth;

/// <summary>
/// Once a credential is validated, a request keeps who the caller is (the claims and the session's end), not the
/// credential. A stream lives for hours: what its request holds is held 10,000 times over, and a token held in memory
/// is a usable credential in every heap dump of the running server.
/// </summary>
/// <remarks>
/// JwtBearer's principal carries the parsed token (its text, its payload and a second set of claims) for the
/// request's life, and the authentication and authorization middleware hold that principal until the response
/// ends; so the principal is replaced where it is made (<see cref="ClaimsOnly"/>, in each scheme's
/// <c>TokenValidated</c>), and the endpoint drops the token text from the request (<see cref="RemoveFrom"/>).
/// </remarks>
public static class CredentialRelease
{
    /// <summary>
    /// The same identities with the same claims (type, value, value type, issuers), name and role claim types and
    /// case-sensitive claim lookups, without the validated token and without the claims' property bags.
    /// </summary>
    public static ClaimsPrincipal ClaimsOnly(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var identities = new List<ClaimsIdentity>();
        foreach (var identity in principal.Identities)
        {
            var copy = new CaseSensitiveClaimsIdentity(identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType);
            foreach (var claim in identity.Claims)
            {
                // The claim names its identity at construction, so AddClaim keeps it instead of cloning it again.
                copy.AddClaim(new Claim(claim.Type, claim.Value, claim.ValueType, claim.Issuer, claim.OriginalIssuer, copy));
            }

            identities.Add(copy);
        }

        return new ClaimsPrincipal(identities);
    }

    /// <summary>
    /// Removes the credential's text from <paramref name="request"/> once authorization has used it: the
    /// <c>Authorization</c> header and the <c>ticket</c> query parameter (from the query string and the raw target).
    /// </summary>
    public static void RemoveFrom(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Headers.Authorization.Count > 0)
        {
            request.Headers.Authorization = StringValues.Empty;
        }

        if (!request.Query.ContainsKey(MetricsAuth.TicketQueryParameter))
        {
            return;
        }

        // The query collection matches keys without regard to case, as the ticket scheme reads them.
        var kept = request.Query.Where(p => !string.Equals(p.Key, MetricsAuth.TicketQueryParameter, StringComparison.OrdinalIgnoreCase));
        var query = QueryString.Create(kept);
        request.QueryString = query;
        var target = request.HttpContext.Features.Get<IHttpRequestFeature>();
        if (target is not null)
        {
            target.RawTarget = (request.PathBase + request.Path).ToUriComponent() + query.ToUriComponent();
        }
    }
}
