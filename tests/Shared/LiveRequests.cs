using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Tests.Shared;

/// <summary>
/// Keeps the <see cref="HttpContext"/> of every request below <paramref name="pathPrefix"/>, first in the app's pipeline,
/// so a test can look at a request while it runs (a stream is open). Register it with the test host's services.
/// </summary>
internal sealed class LiveRequests(string pathPrefix) : IStartupFilter
{
    private readonly ConcurrentQueue<HttpContext> _requests = new();

    public IReadOnlyCollection<HttpContext> Seen => _requests.ToArray();

    public void Register(IServiceCollection services) => services.AddSingleton<IStartupFilter>(this);

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Path.StartsWithSegments(pathPrefix, StringComparison.Ordinal))
            {
                _requests.Enqueue(context);
            }

            return nextMiddleware(context);
        });
        next(app);
    };
}
