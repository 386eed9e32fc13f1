using System.Text.Json;
using System.Text.Json.Serialization;

namespace Metrics.Api.Streaming;

/// <summary>Source-generated JSON for the control events' payloads (camelCase, no reflection).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ReadyData))]
[JsonSerializable(typeof(GapData))]
[JsonSerializable(typeof(BackplaneData))]
[JsonSerializable(typeof(FarewellData))]
public sealed partial class ControlEventsJsonContext : JsonSerializerContext;
