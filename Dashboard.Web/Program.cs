using Dashboard.Web.Apis;
using Dashboard.Web.Auth;
using Dashboard.Web.MetricsApi;
using Dashboard.Web.Spa;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddBffAuthentication();
builder.AddEdgeForwardedHeaders();
builder.AddBffApi();
builder.AddStreamTicketRateLimiting();
builder.AddMetricsApiClient();
builder.AddProblemAnswers();

var app = builder.Build();

app.UseForwardedHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapBffApi();
app.MapSpa();

app.Run();
