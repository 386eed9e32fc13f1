using Microsoft.AspNetCore.Diagnostics;

namespace Dashboard.Web.Apis;

public static class ProblemAnswersExtensions
{
    /// <summary>
    /// Every error is a problem+json answer, and a body the framework cannot read is the 4xx it is, never a 500 with
    /// an error log: a <see cref="BadHttpRequestException"/> (a body over its limit) keeps its status, and a malformed
    /// form or multipart body (<see cref="InvalidDataException"/>, from the form reader that antiforgery and the
    /// sign-in use) is 400.
    /// </summary>
    public static TBuilder AddProblemAnswers<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddProblemDetails();
        builder.Services.Configure<ExceptionHandlerOptions>(static options =>
        {
            options.StatusCodeSelector = static exception => exception switch
            {
                BadHttpRequestException badRequest => badRequest.StatusCode,
                InvalidDataException => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status500InternalServerError,
            };
            // A client's mistake is not the service's error: no error log, no exception on the span.
            options.SuppressDiagnosticsCallback = static context => context.Exception is BadHttpRequestException or InvalidDataException;
        });
        return builder;
    }
}
