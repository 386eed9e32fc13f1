using Microsoft.AspNetCore.Antiforgery;

namespace Dashboard.Web.Apis;

public static class AntiforgeryExtensions
{
    /// <summary>The header the page sends the request token in.</summary>
    public const string HeaderName = "X-XSRF-TOKEN";

    /// <summary>The antiforgery cookie (the other half of the pair): <c>__Host-</c>, HttpOnly, SameSite=Strict.</summary>
    public const string CookieName = "__Host-dashboard.af";

    public static IServiceCollection AddBffAntiforgery(this IServiceCollection services) =>
        services.AddAntiforgery(options =>
        {
            options.HeaderName = HeaderName;
            options.Cookie.Name = CookieName;
            options.Cookie.HttpOnly = true;
            options.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.Path = "/";
        });

    /// <summary>
    /// Rejects the request with 400 unless it carries a valid antiforgery request token (header or
    /// form field) matching its antiforgery cookie. Endpoints here read JSON, so ASP.NET Core's
    /// form-binding check never runs on its own; this filter is that check for every body type.
    /// </summary>
    public static TBuilder RequireAntiforgeryToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static async (context, next) =>
        {
            var http = context.HttpContext;
            if (!http.Request.IsHttps)
            {
                return TypedResults.Problem(BffProblems.HttpsRequired());
            }

            var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
            return await antiforgery.IsRequestValidAsync(http)
                ? await next(context)
                : TypedResults.Problem(BffProblems.Antiforgery());
        });
}
