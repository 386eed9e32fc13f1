using Microsoft.AspNetCore.Diagnostics;

namespace Metrics.Api.Hosting;

public static class ProblemAnswersExtensions
{
    /// <summary>
    /// Every error is a problem+json answer, and a request the framework cannot read (malformed or mistyped JSON,
    /// a body over its size limit, a wrong content type) is the 4xx it is, never a 500 with an error log.
    /// </summary>
    /// <remarks>
    /// Minimal APIs throw on such requests in Development (<see cref="RouteHandlerOptions.ThrowOnBadRequest"/>), and
    /// the exception handler answers any exception with 500; so binding failures are answered in place, and a
    /// <see cref="BadHttpRequestException"/> that still escapes (Kestrel's body-size limit) keeps its own status.
    /// </remarks>
    public static TBuilder AddProblemAnswers<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddProblemDetails();
        builder.Services.Configure<RouteHandlerOptions>(static options => options.ThrowOnBadRequest = false);
        builder.Services.Configure<ExceptionHandlerOptions>(static options =>
        {
            options.StatusCodeSelector = static exception =>
                exception is BadHttpRequestException badRequest ? badRequest.StatusCode : StatusCodes.Status500InternalServerError;
            // A client's mistake is not the service's error: no error log, no exception on the span.
            options.SuppressDiagnosticsCallback = static context => context.Exception is BadHttpRequestException;
        });
        return builder;
    }
}
