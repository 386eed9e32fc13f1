using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Edge.Proxy.Security;

public static class SecurityHeadersExtensions
{
    public static TBuilder AddEdgeSecurityHeaders<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<SecurityHeadersOptions>()
            .BindConfiguration(SecurityHeadersOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecurityHeadersOptions>, SecurityHeadersOptionsValidator>();
        builder.Services.AddOptions<HstsOptions>()
            .Configure<IOptions<SecurityHeadersOptions>>(static (hsts, headers) => hsts.MaxAge = headers.Value.HstsMaxAge);
        return builder;
    }

    /// <summary>
    /// Security headers on every response, proxied ones included; HSTS on HTTPS outside Development. Behind Azure
    /// Container Apps the edge sees HTTPS only through X-Forwarded-Proto, so set ASPNETCORE_FORWARDEDHEADERS_ENABLED.
    /// </summary>
    public static WebApplication UseEdgeSecurityHeaders(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        var options = app.Services.GetRequiredService<IOptions<SecurityHeadersOptions>>();
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var (response, headers) = ((HttpResponse, SecurityHeadersOptions))state;
                response.Headers.TryAdd(HeaderNames.ContentSecurityPolicy, headers.ContentSecurityPolicy);
                response.Headers.TryAdd(HeaderNames.XContentTypeOptions, "nosniff");
                response.Headers.TryAdd(HeaderNames.XFrameOptions, headers.FrameOptions);
                response.Headers.TryAdd("Referrer-Policy", headers.ReferrerPolicy);
                return Task.CompletedTask;
            }, (context.Response, options.Value));
            return next(context);
        });
        return app;
    }
}
