using System.Security.Claims;
using System.Text.RegularExpressions;
using Dashboard.Web.Auth;
using Dashboard.Web.MetricsApi;
using Metrics.Api.Contracts;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Web.Apis;

/// <summary>
/// The backend-for-frontend: the page's session (an HttpOnly cookie), sign-in and sign-out, the
/// antiforgery token, and stream tickets fetched from Metrics.Api with the user's access token,
/// which never reaches the browser. Every response is <c>Cache-Control: no-store</c>.
/// </summary>
public static partial class BffApi
{
    public const string StreamTicketsRateLimitPolicy = "bff-stream-tickets";

    public static RouteGroupBuilder MapBffApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var signIn = app.Services.GetRequiredService<BffSignIn>();
        if (signIn.DevelopmentIssuerRefused)
        {
            BffLog.DevelopmentIssuerRefused(app.Logger, app.Environment.EnvironmentName);
        }

        var group = app.MapGroup("/bff").WithTags("BFF");
        group.AddEndpointFilter(static (context, next) =>
        {
            context.HttpContext.Response.Headers.CacheControl = "no-store";
            return next(context);
        });

        group.MapGet("/user", GetUser)
            .WithName("GetUser")
            .WithSummary("Whether the caller is signed in, as whom, and how this server signs users in.");
        group.MapGet("/antiforgery", GetAntiforgeryToken)
            .WithName("GetAntiforgeryToken")
            .WithSummary("A request token for the X-XSRF-TOKEN header of POST /bff/* (sets its HttpOnly cookie pair).");

        switch (signIn.Mode)
        {
            case SignInMode.Development:
                group.MapPost("/login", SignInDevelopment)
                    .RequireAntiforgeryToken()
                    .WithName("SignIn")
                    .WithSummary("Development only: sign in with a user name (JSON { userName } or a form post).");
                break;
            case SignInMode.OpenIdConnect:
                group.MapGet("/login", SignInWithOpenIdConnect)
                    .WithName("SignIn")
                    .WithSummary("Starts OpenID Connect sign-in; comes back to returnUrl (a local path).");
                break;
            default:
                break;
        }

        group.MapPost("/logout", SignOut)
            .RequireAntiforgeryToken()
            .WithName("SignOut")
            .WithSummary("Ends the session; with OpenID Connect also returns the identity provider's sign-out URL.");

        group.MapPost("/stream-ticket", CreateStreamTicket)
            .RequireAuthorization(BffAuthenticationExtensions.SessionPolicy)
            .RequireAntiforgeryToken()
            .RequireRateLimiting(StreamTicketsRateLimitPolicy)
            .WithName("CreateStreamTicket")
            .WithSummary("A single-use ticket from Metrics.Api for EventSource('/api/stream/metrics?ticket=…').");

        group.Map("/{**rest}", static () => TypedResults.Problem(BffProblems.NotFound("No such BFF endpoint.")))
            .ExcludeFromDescription();
        return group;
    }

    public static Ok<BffUser> GetUser(HttpContext context, BffSignIn signIn)
    {
        var user = context.User;
        var isAuthenticated = user.Identity?.IsAuthenticated == true;
        return TypedResults.Ok(new BffUser(isAuthenticated, isAuthenticated ? user.Identity!.Name : null, signIn.ModeName));
    }

    public static Results<Ok<AntiforgeryToken>, ProblemHttpResult> GetAntiforgeryToken(HttpContext context, IAntiforgery antiforgery)
    {
        if (!context.Request.IsHttps)
        {
            return TypedResults.Problem(BffProblems.HttpsRequired());
        }

        var tokens = antiforgery.GetAndStoreTokens(context);
        return TypedResults.Ok(new AntiforgeryToken(tokens.RequestToken!, tokens.HeaderName ?? AntiforgeryExtensions.HeaderName));
    }

    /// <summary>
    /// JSON <c>{ "userName": "ada" }</c> answers 200 with the user; a form post (userName, returnUrl and
    /// the antiforgery form field) is redirected to returnUrl.
    /// </summary>
    public static async Task<Results<Ok<BffUser>, RedirectHttpResult, ValidationProblem, ProblemHttpResult>> SignInDevelopment(
        HttpContext context, BffSignIn signIn)
    {
        string? userName;
        string? returnUrl = null;
        var isForm = context.Request.HasFormContentType;
        if (isForm)
        {
            if (await ReadFormAsync(context) is not { } form)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["The form could not be read."] });
            }

            userName = form["userName"];
            returnUrl = form["returnUrl"];
        }
        else if (context.Request.HasJsonContentType())
        {
            try
            {
                userName = (await context.Request.ReadFromJsonAsync<SignInRequest>(context.RequestAborted))?.UserName;
            }
            catch (Exception e) when (IsUnreadableJson(e))
            {
                userName = null;
            }
        }
        else
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type",
                detail: "Send JSON { \"userName\": \"…\" } or a form post.");
        }

        userName = userName?.Trim();
        if (string.IsNullOrEmpty(userName) || !UserNamePattern().IsMatch(userName))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["userName"] = ["1–64 characters: letters, digits, space, '.', '_', '@' or '-', starting with a letter or digit."],
            });
        }

        var identity = new ClaimsIdentity(
            [new Claim(BffClaims.Subject, userName), new Claim(BffClaims.Name, userName)],
            authenticationType: "DevelopmentSignIn",
            nameType: BffClaims.Name,
            roleType: "role");
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));

        return isForm
            ? TypedResults.LocalRedirect(IsLocalUrl(returnUrl) ? returnUrl! : "/")
            : TypedResults.Ok(new BffUser(true, userName, signIn.ModeName));
    }

    /// <summary>The request's form, or null when its body is malformed (bad multipart, over a form limit, cut short).</summary>
    private static async Task<IFormCollection?> ReadFormAsync(HttpContext context)
    {
        try
        {
            return await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException || (e is IOException && !context.RequestAborted.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>Malformed or mistyped JSON, or a charset no encoding is known for: the client's mistake, a 400.</summary>
    private static bool IsUnreadableJson(Exception exception) =>
        exception is System.Text.Json.JsonException || (exception is InvalidOperationException { InnerException: ArgumentException });

    public static ChallengeHttpResult SignInWithOpenIdConnect(string? returnUrl) =>
        TypedResults.Challenge(
            new AuthenticationProperties { RedirectUri = IsLocalUrl(returnUrl) ? returnUrl : "/" },
            [OpenIdConnectDefaults.AuthenticationScheme]);

    public static async Task<Ok<SignOutResult>> SignOut(HttpContext context, BffSignIn signIn)
    {
        string? redirectUrl = null;
        if (signIn.Mode == SignInMode.OpenIdConnect && context.User.Identity?.IsAuthenticated == true)
        {
            context.Items[BffAuthenticationExtensions.LogoutRedirectItem] = null;
            await context.SignOutAsync(OpenIdConnectDefaults.AuthenticationScheme, new AuthenticationProperties { RedirectUri = "/" });
            redirectUrl = context.Items[BffAuthenticationExtensions.LogoutRedirectItem] as string;
        }

        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return TypedResults.Ok(new SignOutResult(redirectUrl));
    }

    public static async Task<Results<Ok<StreamTicket>, ValidationProblem, ProblemHttpResult>> CreateStreamTicket(
        HttpContext context,
        AccessTokenSource tokens,
        MetricsApiClient metricsApi,
        BffSignIn signIn,
        ILogger<MetricsApiClient> logger)
    {
        // The body is optional (no body: the metrics stream), so it is read here rather than bound:
        // a bound body would make routing refuse requests without a JSON content type.
        StreamTicketRequest? request = null;
        if (context.Request.HasJsonContentType() && context.Request.ContentLength != 0)
        {
            try
            {
                request = await context.Request.ReadFromJsonAsync<StreamTicketRequest>(context.RequestAborted);
            }
            catch (Exception e) when (IsUnreadableJson(e))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["Send JSON { \"path\": \"/api/stream/metrics\" } or no body."] });
            }
        }

        // Metrics.Api's own allow-list (the shared contract): what it would refuse is refused here, without asking it.
        var path = StreamTicketPaths.OrDefault(request?.Path);
        if (!StreamTicketPaths.All.Contains(path))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["path"] = [$"Tickets are issued for {string.Join(", ", StreamTicketPaths.All)} only."] });
        }

        var token = await tokens.GetAsync(context);
        if (token is null)
        {
            // The saved access token expired: the session is over.
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return TypedResults.Problem(BffProblems.SignedOut("Your session has expired; sign in again."));
        }

        var result = await metricsApi.CreateTicketAsync(token.Value, path, context.RequestAborted);
        switch (result.Outcome)
        {
            case TicketOutcome.Issued:
                return TypedResults.Ok(result.Ticket!);
            case TicketOutcome.Unauthorized when signIn.Mode == SignInMode.OpenIdConnect:
                await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                return TypedResults.Problem(BffProblems.SignedOut("The metrics service no longer accepts your sign-in; sign in again."));
            case TicketOutcome.Unauthorized:
                // A minted development token was refused: the two services disagree on the issuer settings.
                BffLog.DevelopmentTokenRejected(logger);
                return TypedResults.Problem(BffProblems.MetricsApiUnavailable(
                    "The metrics service rejected the development access token; check that both services share the AppHost's DevelopmentIssuer settings."));
            case TicketOutcome.Forbidden:
                return TypedResults.Problem(BffProblems.Forbidden());
            case TicketOutcome.RateLimited:
                if (result.RetryAfter is { } retryAfter)
                {
                    context.Response.Headers.RetryAfter = retryAfter;
                }

                return TypedResults.Problem(BffProblems.RateLimited());
            default:
                return TypedResults.Problem(BffProblems.MetricsApiUnavailable(result.Detail ?? "The metrics service did not answer."));
        }
    }

    /// <summary>A local path (not <c>//host</c> nor <c>/\host</c>), so a sign-in never sends anyone off-site.</summary>
    public static bool IsLocalUrl(string? url) =>
        !string.IsNullOrEmpty(url)
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Contains("://", StringComparison.Ordinal)
        && !url.Any(char.IsControl);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex UserNamePattern();
}

/// <summary>GET /bff/user.</summary>
public sealed record BffUser(bool IsAuthenticated, string? Name, string SignInMode);

/// <summary>GET /bff/antiforgery.</summary>
public sealed record AntiforgeryToken(string RequestToken, string HeaderName);

/// <summary>POST /bff/login (Development).</summary>
public sealed record SignInRequest(string? UserName);

/// <summary>POST /bff/logout: where to send the browser next (the IdP's sign-out page), if anywhere.</summary>
public sealed record SignOutResult(string? RedirectUrl);
