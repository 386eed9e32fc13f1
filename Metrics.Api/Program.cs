using Metrics.Api.Apis;
using Metrics.Api.Auth;
using Metrics.Api.Hosting;
using Metrics.Api.Streaming;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddServerLimits();
builder.AddMetricsStreaming();
builder.AddMetricsApiAuth();
builder.AddStreamAdmin();
builder.AddProblemAnswers();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMetricsApiAuth();

app.MapDefaultEndpoints();
app.MapInstanceApi();
app.MapMetricsStreamApi();
app.MapStreamTicketsApi();
app.MapStreamAdminApi();

app.Run();
