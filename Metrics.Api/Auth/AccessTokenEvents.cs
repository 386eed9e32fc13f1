using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>
/// Shared by the access-token schemes (<c>Bearer</c>, <c>DevelopmentIssuer</c>): a size cap before anything parses
/// the header, the session (the token's <c>exp</c>) attached to the request for streams and ticket issuance, and a
/// principal that keeps the token's claims, not the token (<see cref="CredentialRelease"/>).
/// </summary>
public sealed class AccessTokenEvents(
    IOptions<AccessTokenOptions> options,
    TimeProvider timeProvider,
    ILogger<AccessTokenEvents> logger) : JwtBearerEvents
{
    public override Task MessageReceived(MessageReceivedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count > 1)
        {
            AuthLog.AccessTokenRejected(logger, "more than one Authorization header.");
            context.Fail("The access token is invalid.");
        }
        else if (authorization.Count == 1 && authorization[0]!.Length > options.Value.MaxLength + "Bearer ".Length)
        {
            AuthLog.AccessTokenRejected(logger, "longer than AccessTokens:MaxLength.");
            context.Fail("The access token is invalid.");
        }

        return Task.CompletedTask;
    }

    public override Task TokenValidated(TokenValidatedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // RequireExpirationTime guarantees exp; ValidTo is UTC.
        var expiresAt = new DateTimeOffset(DateTime.SpecifyKind(context.SecurityToken.ValidTo, DateTimeKind.Utc));
        AuthenticatedSession.Create(expiresAt, timeProvider.GetUtcNow()).AttachTo(context.HttpContext);
        context.Principal = CredentialRelease.ClaimsOnly(context.Principal!);
        return Task.CompletedTask;
    }

    public override Task AuthenticationFailed(AuthenticationFailedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (logger.IsEnabled(LogLevel.Information))
        {
            var kind = context.Exception.GetType().Name;
            AuthLog.AccessTokenRejected(logger, kind);
        }

        return Task.CompletedTask;
    }
}
