using Metrics.Api.Contracts;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Metrics.Api.Auth;

public static class AuthExtensions
{
    /// <summary>
    /// Authentication and authorization for the API: access tokens in the header (<c>Bearer</c> from
    /// <c>Authentication:Schemes:Bearer</c>, plus the AppHost's development issuer in Development), stream tickets
    /// in the query of stream requests, the <c>metrics.read</c> policies and per-user stream limits. Every option is
    /// validated at start-up. The ticket issuance rate limit is <see cref="TicketRateLimitingExtensions.AddTicketRateLimiting"/>.
    /// </summary>
    public static TBuilder AddMetricsApiAuth<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        services.AddOptions<AccessTokenOptions>().BindConfiguration(AccessTokenOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AccessTokenOptions>, AccessTokenOptionsValidator>();
        services.AddOptions<DevelopmentIssuerOptions>().BindConfiguration(DevelopmentIssuerOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DevelopmentIssuerOptions>, DevelopmentIssuerOptionsValidator>();
        services.AddOptions<StreamTicketOptions>()
            .BindConfiguration(StreamTicketOptions.SectionName)
            .PostConfigure<IHostEnvironment>(static (options, environment) =>
            {
                // A lone `dotnet run` in Development works without setup; everywhere else the key is required.
                if (string.IsNullOrWhiteSpace(options.SigningKey) && environment.IsDevelopment())
                {
                    options.SigningKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
                    options.KeyIsEphemeral = true;
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreamTicketOptions>, StreamTicketOptionsValidator>();
        services.AddSingleton<IValidateOptions<StreamTicketOptions>, StreamTicketKindValidator>();
        services.AddOptions<StreamLimitOptions>().BindConfiguration(StreamLimitOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreamLimitOptions>, StreamLimitOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITicketReplayCache, InMemoryTicketReplayCache>();
        services.AddSingleton<StreamTicketIssuer>();
        services.TryAddSingleton<IUserStreamLimiter, InMemoryUserStreamLimiter>();
        services.AddSingleton<StreamTicketEvents>();
        services.AddSingleton<AccessTokenEvents>();
        services.AddHostedService<StreamTicketKeyNotice>();

        services.AddAuthentication(MetricsAuth.AccessTokenScheme)
            .AddPolicyScheme(MetricsAuth.AccessTokenScheme, "Access token (Authorization header)", options =>
                options.ForwardDefaultSelector = SelectAccessTokenScheme)
            .AddJwtBearer(MetricsAuth.BearerScheme)
            .AddJwtBearer(MetricsAuth.DevelopmentIssuerScheme)
            .AddJwtBearer(MetricsAuth.StreamTicketScheme);

        // After Authentication:Schemes:Bearer is bound (JwtBearer's own configuration), whatever it says.
        services.AddOptions<JwtBearerOptions>(MetricsAuth.BearerScheme)
            .PostConfigure<IOptions<AccessTokenOptions>, IConfiguration>(ConfigureBearer)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<JwtBearerOptions>, BearerOptionsValidator>();
        services.AddOptions<JwtBearerOptions>(MetricsAuth.DevelopmentIssuerScheme)
            .PostConfigure<IOptions<DevelopmentIssuerOptions>, IOptions<AccessTokenOptions>>(ConfigureDevelopmentIssuer);
        services.AddOptions<JwtBearerOptions>(MetricsAuth.StreamTicketScheme)
            .PostConfigure<IOptions<StreamTicketOptions>>(ConfigureStreamTicket);

        // ReadScopeRequirement is its own handler (ASP.NET Core's pass-through handler runs it).
        services.AddAuthorizationBuilder()
            .AddPolicy(MetricsAuth.ReadPolicy, policy => policy
                .AddAuthenticationSchemes(MetricsAuth.AccessTokenScheme, MetricsAuth.StreamTicketScheme)
                .RequireAuthenticatedUser()
                .AddRequirements(new ReadScopeRequirement()))
            .AddPolicy(MetricsAuth.TicketIssuancePolicy, policy => policy
                .AddAuthenticationSchemes(MetricsAuth.AccessTokenScheme)
                .RequireAuthenticatedUser()
                .AddRequirements(new ReadScopeRequirement()));

        return builder;
    }

    /// <summary>
    /// The request pipeline's auth steps, in order: one credential per stream request (400 otherwise),
    /// authentication, authorization.
    /// </summary>
    public static IApplicationBuilder UseMetricsApiAuth(this IApplicationBuilder app)
    {
        app.UseMiddleware<StreamCredentialMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>The ticket-issuance endpoint's policies: access token with metrics.read, rate-limited per user.</summary>
    public static TBuilder RequireTicketIssuancePolicies<TBuilder>(this TBuilder endpoint) where TBuilder : IEndpointConventionBuilder =>
        endpoint.RequireAuthorization(MetricsAuth.TicketIssuancePolicy).RequireRateLimiting(MetricsAuth.TicketIssuanceRateLimit);

    /// <summary>Stream endpoints: an access token or a stream ticket, with metrics.read.</summary>
    public static TBuilder RequireStreamReadPolicy<TBuilder>(this TBuilder endpoint) where TBuilder : IEndpointConventionBuilder =>
        endpoint.RequireAuthorization(MetricsAuth.ReadPolicy);

    /// <summary>
    /// Sends a header token to the development issuer's scheme only when that issuer is configured (and so, after
    /// start-up validation, only in Development) and the token claims to be from it; everything else goes to Bearer.
    /// The unvalidated issuer only picks which validator runs; each one validates fully.
    /// </summary>
    private static string SelectAccessTokenScheme(HttpContext context)
    {
        var development = context.RequestServices.GetRequiredService<IOptions<DevelopmentIssuerOptions>>().Value;
        if (!development.IsConfigured)
        {
            return MetricsAuth.BearerScheme;
        }

        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count != 1 || authorization[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return MetricsAuth.BearerScheme;
        }

        var maxLength = context.RequestServices.GetRequiredService<IOptions<AccessTokenOptions>>().Value.MaxLength;
        var token = value["Bearer ".Length..].Trim();
        if (token.Length > maxLength)
        {
            return MetricsAuth.BearerScheme;
        }

        try
        {
            return string.Equals(new JsonWebToken(token).Issuer, development.Issuer, StringComparison.Ordinal)
                ? MetricsAuth.DevelopmentIssuerScheme
                : MetricsAuth.BearerScheme;
        }
        catch (ArgumentException)
        {
            // Not a JWT: Bearer rejects it.
            return MetricsAuth.BearerScheme;
        }
    }

    private static void ConfigureBearer(JwtBearerOptions options, IOptions<AccessTokenOptions> accessTokens, IConfiguration configuration)
    {
        var settings = accessTokens.Value;
        options.MapInboundClaims = false;
        // Nothing reads the token back (GetTokenAsync), and a stream would keep it for its whole life.
        options.SaveToken = false;
        // Error details echo the token's issuer and audience back; only when explicitly configured.
        options.IncludeErrorDetails = configuration.GetValue($"Authentication:Schemes:{MetricsAuth.BearerScheme}:IncludeErrorDetails", false);
        options.EventsType = typeof(AccessTokenEvents);
        LimitTokenSize(options, settings.MaxLength);

        var parameters = options.TokenValidationParameters;
        // Fail closed whatever the configuration binder inferred (it turns issuer and audience validation off
        // when none is configured).
        parameters.ValidateIssuer = true;
        parameters.ValidateAudience = true;
        parameters.ValidateLifetime = true;
        parameters.ValidateIssuerSigningKey = true;
        parameters.RequireSignedTokens = true;
        parameters.RequireExpirationTime = true;
        parameters.RequireAudience = true;
        parameters.ValidTypes = settings.ValidTypes;
        parameters.AlgorithmValidator = AlgorithmPolicy.Create(settings.ValidAlgorithms);
        parameters.ClockSkew = settings.ClockSkew;
        parameters.NameClaimType = "name";
        parameters.RoleClaimType = "roles";
    }

    private static void ConfigureDevelopmentIssuer(
        JwtBearerOptions options, IOptions<DevelopmentIssuerOptions> developmentIssuer, IOptions<AccessTokenOptions> accessTokens)
    {
        var settings = developmentIssuer.Value;
        var key = settings.TryGetKeyBytes();
        options.Authority = null;
        options.MetadataAddress = string.Empty;
        options.ConfigurationManager = null;
        options.MapInboundClaims = false;
        options.SaveToken = false;
        options.IncludeErrorDetails = false;
        options.EventsType = typeof(AccessTokenEvents);
        LimitTokenSize(options, accessTokens.Value.MaxLength);
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            // Without a configured key nothing validates (and the selector never picks this scheme).
            IssuerSigningKey = key is null ? null : new SymmetricSecurityKey(key),
            ValidTypes = [DevelopmentIssuerOptions.TokenType],
            AlgorithmValidator = AlgorithmPolicy.Create([SecurityAlgorithms.HmacSha256]),
            ClockSkew = accessTokens.Value.ClockSkew,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            RequireAudience = true,
            NameClaimType = "name",
            RoleClaimType = "roles",
        };
    }

    private static void ConfigureStreamTicket(JwtBearerOptions options, IOptions<StreamTicketOptions> streamTickets)
    {
        var settings = streamTickets.Value;
        var key = settings.TryGetKeyBytes();
        options.Authority = null;
        options.MetadataAddress = string.Empty;
        options.ConfigurationManager = null;
        options.MapInboundClaims = false;
        options.SaveToken = false;
        // No oracle: a failed ticket gets a bare 401.
        options.IncludeErrorDetails = false;
        options.EventsType = typeof(StreamTicketEvents);
        LimitTokenSize(options, settings.MaxLength);
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            IssuerSigningKey = key is null ? null : new SymmetricSecurityKey(key),
            ValidTypes = [StreamTicketOptions.TokenType],
            AlgorithmValidator = AlgorithmPolicy.Create([SecurityAlgorithms.HmacSha256]),
            ClockSkew = settings.ClockSkew,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            RequireAudience = true,
            NameClaimType = "sub",
            RoleClaimType = "roles",
        };
    }

    private static void LimitTokenSize(JwtBearerOptions options, int maxLength)
    {
        foreach (var handler in options.TokenHandlers)
        {
            handler.MaximumTokenSizeInBytes = maxLength;
        }
    }
}

/// <summary>Start-up checks of the Bearer scheme after configuration: a configured issuer must come with audiences.</summary>
public sealed class BearerOptionsValidator : IValidateOptions<JwtBearerOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtBearerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (name != MetricsAuth.BearerScheme)
        {
            return ValidateOptionsResult.Skip;
        }

        var parameters = options.TokenValidationParameters;
        var trustsSomething = !string.IsNullOrEmpty(options.Authority)
            || !string.IsNullOrEmpty(options.MetadataAddress)
            || parameters.IssuerSigningKey is not null
            || parameters.IssuerSigningKeys?.Any() == true;
        var hasAudience = !string.IsNullOrEmpty(parameters.ValidAudience) || parameters.ValidAudiences?.Any(a => !string.IsNullOrEmpty(a)) == true;
        return trustsSomething && !hasAudience
            ? ValidateOptionsResult.Fail(
                "Authentication:Schemes:Bearer trusts an issuer (Authority or SigningKeys) but names no audience: set "
                + "Authentication:Schemes:Bearer:ValidAudiences (for Entra ID the API's client id and/or api://<client id>).")
            : ValidateOptionsResult.Success;
    }
}
