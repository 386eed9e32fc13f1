using System.Text.Json;
using System.Text.Json.Serialization;

namespace Metrics.Api.Sampling;

/// <summary>Source-generated JSON for the <c>metrics</c> event's payload (camelCase, no reflection).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MetricsSample))]
public sealed partial class SamplingJsonContext : JsonSerializerContext;
