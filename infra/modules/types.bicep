// Shapes shared by resources.bicep and container-app.bicep (compile-time imports).

@export()
@description('One container environment variable: a plain value or a reference to a Container Apps secret, never both.')
type envVar = {
  name: string
  value: string?
  secretRef: string?
}

@export()
@description('An extra internal TCP port of an app, reachable in the environment as <app>:<exposedPort>.')
type portMapping = {
  external: bool
  targetPort: int
  exposedPort: int
}

@export()
@description('HTTP ingress of an app. transport http2 = cleartext HTTP/2 with prior knowledge (h2c) from the platform proxy to targetPort.')
type ingressSettings = {
  external: bool
  targetPort: int
  transport: ('http' | 'http2')
  @description('true lets in-environment callers use plain http:// (needed for h2c); false redirects http to https.')
  allowInsecure: bool
  additionalPortMappings: portMapping[]
}

@export()
@description('HTTP probes; port must be an HTTP/1.1 endpoint (an HTTP/2-only port answers HTTP/1.1 with 400).')
type probeSettings = {
  port: int
  livenessPath: string
  readinessPath: string
  startupPath: string
}

@export()
@description('Replica bounds and the HTTP concurrency that adds a replica. Each open SSE stream counts as one concurrent request for its whole life.')
type scaleSettings = {
  @minValue(0)
  minReplicas: int
  @minValue(1)
  maxReplicas: int
  @minValue(1)
  concurrentRequests: int
}

@export()
@description('A Container Apps secret. The value is a secure string end to end; apps read it through env secretRef.')
type secretEntry = {
  @description('Secret name: lowercase letters, digits and hyphens.')
  name: string
  @secure()
  value: string
}
