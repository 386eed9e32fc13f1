using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Web.MetricsApi;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(TicketRequest))]
[JsonSerializable(typeof(StreamTicket))]
internal sealed partial class MetricsApiJsonContext : JsonSerializerContext;
