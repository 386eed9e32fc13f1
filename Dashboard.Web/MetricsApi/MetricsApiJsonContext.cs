using System.Text.Json;
using System.Text.Json.Serialization;
using Metrics.Api.Contracts;

namespace Dashboard.Web.MetricsApi;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StreamTicketRequest))]
[JsonSerializable(typeof(StreamTicket))]
internal sealed partial class MetricsApiJsonContext : JsonSerializerContext;
