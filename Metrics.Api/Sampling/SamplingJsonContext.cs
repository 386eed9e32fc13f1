using System.Text.Json;
using System.Text.Json.Serialization;

namespace Metrics.Api.Sampling;

/// <summary>Source-generated JSON for the <c>metrics</c> event's payload (camelCase, no reflection).</summary>
/// <remarks>Named for the stream it is written to because bench/PublishHook serializes samples with it by this name.</remarks>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MetricsSample))]
public sealed partial class StreamingJsonContext : JsonSerializerContext;
