// Everything inside the resource group: logs, registry + pull identity, the Container Apps
// environment with its Aspire dashboard, and the three apps.
//
// Ports, identical in edge-proxy and metrics-api (Kestrel endpoints set below, protocols pinned):
//   8080  endpoint "http", HTTP/1.1 only: /health and /alive, the platform's probes
//   8081  endpoint "h2c",  HTTP/2 only (cleartext, prior knowledge): the ingress target
// dashboard-web has one HTTP/1.1 port, 8080 (ASPNETCORE_HTTP_PORTS).

import { envVar, scaleSettings } from 'modules/types.bicep'

param location string
param tags object

@description('uniqueString() of subscription, environment name and location.')
@minLength(13)
@maxLength(13)
param resourceToken string

param principalId string
param principalType string

param edgeProxyExists bool
param metricsApiExists bool
param dashboardWebExists bool

param entraAuthority string
param metricsApiClientId string
param metricsApiAppIdUri string
param dashboardClientId string

@secure()
param dashboardClientSecret string

@secure()
param streamTicketSigningKey string

@secure()
param redisPassword string

param otlpEndpoint string
param otlpProtocol string

param edgeProxyScale scaleSettings
param metricsApiScale scaleSettings
param dashboardWebScale scaleSettings
param terminationGracePeriodSeconds int

// Resource names of the AppHost; they are also the container app names, so the in-environment DNS
// names and the services__<name>__... variables line up with a local run.
var edgeProxyName = 'edge-proxy'
var metricsApiName = 'metrics-api'
var dashboardWebName = 'dashboard-web'
var redisName = 'redis'

var httpPort = 8080
var h2cPort = 8081

var kestrelEndpointsEnv = [
  { name: 'Kestrel__Endpoints__http__Url', value: 'http://+:${httpPort}' }
  { name: 'Kestrel__Endpoints__http__Protocols', value: 'Http1' }
  { name: 'Kestrel__Endpoints__h2c__Url', value: 'http://+:${h2cPort}' }
  { name: 'Kestrel__Endpoints__h2c__Protocols', value: 'Http2' }
]

// What Aspire writes for a project in publish mode, plus the identity for DefaultAzureCredential.
var commonEnv = [
  { name: 'ASPNETCORE_FORWARDEDHEADERS_ENABLED', value: 'true' }
  { name: 'AZURE_CLIENT_ID', value: registry.outputs.identityClientId }
]

@description('OpenTelemetry variables for one app. With otlpEndpoint empty the endpoint is left to the platform (the Aspire dashboard component); see docs/deploy.md.')
func otelEnv(serviceName string, endpoint string, protocol string) envVar[] =>
  concat(
    [
      { name: 'OTEL_SERVICE_NAME', value: serviceName }
      { name: 'OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES', value: 'true' }
      { name: 'OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES', value: 'true' }
      { name: 'OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY', value: 'in_memory' }
    ],
    empty(endpoint)
      ? []
      : [
          { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: endpoint }
          { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: protocol }
        ]
  )

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    name: 'log-${resourceToken}'
    location: location
    tags: tags
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    name: 'cr${resourceToken}'
    identityName: 'id-apps-${resourceToken}'
    location: location
    tags: tags
    principalId: principalId
    principalType: principalType
  }
}

module environment 'modules/environment.bicep' = {
  name: 'environment'
  params: {
    name: 'cae-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceName: monitoring.outputs.name
  }
}

// Metrics.Api's shared event log (Streaming__Backplane=Redis). The AppHost publishes Redis as this container
// (AddRedis: image, command, password parameter); Metrics.Api gets only the connection string, as a secret.
module redis 'modules/redis.bicep' = {
  name: redisName
  params: {
    name: redisName
    location: location
    tags: tags
    environmentId: environment.outputs.id
    image: 'docker.io/library/redis:8.6'
    password: redisPassword
  }
}

// What WithReference(redis) gives metrics-api: the TCP ingress's in-environment address and the password
// (no TLS inside the environment, as the AppHost's ",ssl=true" condition is false there).
var redisConnectionString = '${redisName}:${redis.outputs.port},password=${redisPassword}'

// Service discovery inside the environment (Aspire's ACA conventions):
//   ingress port      -> http://<app>.internal.<environment domain>   (port 80 on the platform proxy)
//   additional port   -> http://<app>:<port>                           (TCP straight to the replica)
// metrics-api's ingress targets its h2c port, so the edge's h2c hop goes through the platform proxy:
// HTTP scaling sees every stream and spreads streams per request across replicas.
var metricsApiH2cUrl = 'http://${metricsApiName}.internal.${environment.outputs.defaultDomain}'
var metricsApiHttpUrl = 'http://${metricsApiName}:${httpPort}'
var dashboardWebHttpUrl = 'http://${dashboardWebName}.internal.${environment.outputs.defaultDomain}'

// What WithReference(metricsApi) gives an app under the AppHost (services__… and the Aspire 13 style duplicates);
// both dashboard-web and edge-proxy reference it. tests/Deploy.Tests/ManifestTests compares these with the manifest.
var metricsApiReferenceEnv = [
  { name: 'services__metrics-api__h2c__0', value: metricsApiH2cUrl }
  { name: 'services__metrics-api__http__0', value: metricsApiHttpUrl }
  { name: 'METRICS_API_H2C', value: metricsApiH2cUrl }
  { name: 'METRICS_API_HTTP', value: metricsApiHttpUrl }
]

module metricsApi 'modules/container-app.bicep' = {
  name: metricsApiName
  params: {
    name: metricsApiName
    serviceName: metricsApiName
    exists: metricsApiExists
    location: location
    tags: tags
    environmentId: environment.outputs.id
    // Waiting on this output also waits for the registry module, i.e. for the AcrPull assignment.
    identityId: registry.outputs.identityId
    registryServer: registry.outputs.loginServer
    terminationGracePeriodSeconds: terminationGracePeriodSeconds
    ingress: {
      external: false
      targetPort: h2cPort
      transport: 'http2'
      allowInsecure: true
      additionalPortMappings: [
        { external: false, targetPort: httpPort, exposedPort: httpPort }
      ]
    }
    probes: {
      port: httpPort
      livenessPath: '/alive'
      readinessPath: '/health'
      startupPath: '/alive'
    }
    scale: metricsApiScale
    secrets: [
      { name: 'stream-tickets-signing-key', value: streamTicketSigningKey }
      { name: 'redis-connection-string', value: redisConnectionString }
    ]
    env: concat(
      commonEnv,
      kestrelEndpointsEnv,
      [
        { name: 'StreamTickets__SigningKey', secretRef: 'stream-tickets-signing-key' }
        { name: 'Streaming__Backplane', value: 'Redis' }
        { name: 'ConnectionStrings__redis', secretRef: 'redis-connection-string' }
        // As the AppHost sets it: socket completions on the I/O thread (less CPU per event at thousands of streams).
        { name: 'DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS', value: '1' }
        { name: 'Authentication__Schemes__Bearer__Authority', value: entraAuthority }
        { name: 'Authentication__Schemes__Bearer__ValidAudiences__0', value: metricsApiClientId }
        { name: 'Authentication__Schemes__Bearer__ValidAudiences__1', value: metricsApiAppIdUri }
      ],
      otelEnv(metricsApiName, otlpEndpoint, otlpProtocol)
    )
  }
}

module dashboardWeb 'modules/container-app.bicep' = {
  name: dashboardWebName
  params: {
    name: dashboardWebName
    serviceName: dashboardWebName
    exists: dashboardWebExists
    location: location
    tags: tags
    environmentId: environment.outputs.id
    // Waiting on this output also waits for the registry module, i.e. for the AcrPull assignment.
    identityId: registry.outputs.identityId
    registryServer: registry.outputs.loginServer
    terminationGracePeriodSeconds: terminationGracePeriodSeconds
    ingress: {
      external: false
      targetPort: httpPort
      transport: 'http'
      allowInsecure: true
      additionalPortMappings: []
    }
    probes: {
      port: httpPort
      livenessPath: '/alive'
      readinessPath: '/health'
      startupPath: '/alive'
    }
    scale: dashboardWebScale
    secrets: [
      { name: 'oidc-client-secret', value: dashboardClientSecret }
    ]
    env: concat(
      commonEnv,
      // Its MetricsApiClient calls http://metrics-api, which service discovery resolves to the HTTP/1.1 port, as
      // under the AppHost; without these it would fall back to DNS and the ingress (h2c to the API's h2c port).
      metricsApiReferenceEnv,
      [
        { name: 'ASPNETCORE_HTTP_PORTS', value: string(httpPort) }
        { name: 'Authentication__Schemes__OpenIdConnect__Authority', value: entraAuthority }
        { name: 'Authentication__Schemes__OpenIdConnect__ClientId', value: dashboardClientId }
        { name: 'Authentication__Schemes__OpenIdConnect__ClientSecret', secretRef: 'oidc-client-secret' }
      ],
      otelEnv(dashboardWebName, otlpEndpoint, otlpProtocol)
    )
  }
}

module edgeProxy 'modules/container-app.bicep' = {
  name: edgeProxyName
  params: {
    name: edgeProxyName
    serviceName: edgeProxyName
    exists: edgeProxyExists
    location: location
    tags: tags
    environmentId: environment.outputs.id
    // Waiting on this output also waits for the registry module, i.e. for the AcrPull assignment.
    identityId: registry.outputs.identityId
    registryServer: registry.outputs.loginServer
    terminationGracePeriodSeconds: terminationGracePeriodSeconds
    // The platform terminates TLS and speaks HTTP/2 (ALPN h2) to browsers, then h2c to the h2c port.
    // Probes go straight to the replica's HTTP/1.1 port; that port needs no ingress mapping.
    ingress: {
      external: true
      targetPort: h2cPort
      transport: 'http2'
      allowInsecure: false
      additionalPortMappings: []
    }
    probes: {
      port: httpPort
      livenessPath: '/alive'
      readinessPath: '/health'
      startupPath: '/alive'
    }
    scale: edgeProxyScale
    env: concat(
      commonEnv,
      kestrelEndpointsEnv,
      metricsApiReferenceEnv,
      [
        // Same names as under the AppHost (WithReference(dashboardWeb)), with the Aspire 13 style duplicate.
        { name: 'services__dashboard-web__http__0', value: dashboardWebHttpUrl }
        { name: 'DASHBOARD_WEB_HTTP', value: dashboardWebHttpUrl }
        // As the AppHost sets it: a shared ArrayPool deep enough for an event burst over thousands of streams.
        { name: 'DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION', value: '4096' }
      ],
      otelEnv(edgeProxyName, otlpEndpoint, otlpProtocol)
    )
  }
}

output registryName string = registry.outputs.registryName
output registryLoginServer string = registry.outputs.loginServer
output identityClientId string = registry.outputs.identityClientId
output environmentName string = environment.outputs.name
output environmentId string = environment.outputs.id
output environmentDefaultDomain string = environment.outputs.defaultDomain
output aspireDashboardUrl string = environment.outputs.aspireDashboardUrl
output edgeProxyFqdn string = edgeProxy.outputs.fqdn
output metricsApiFqdn string = metricsApi.outputs.fqdn
output dashboardWebFqdn string = dashboardWeb.outputs.fqdn
