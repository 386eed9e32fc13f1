// One container app of the system: image from the shared registry (pulled with the user-assigned
// identity), HTTP ingress, HTTP probes on the HTTP/1.1 port, secrets as Container Apps secrets,
// an HTTP-concurrency scale rule and a termination grace period longer than the stream drain.

import { envVar, ingressSettings, probeSettings, scaleSettings, secretEntry } from 'types.bicep'

@description('Container app name; other apps reach it as http://<name>.internal.<domain> (ingress) or <name>:<port> (extra ports).')
param name string

param location string
param tags object = {}

@description('Service name in azure.yaml; azd finds the app to deploy to by the azd-service-name tag.')
param serviceName string

param environmentId string

@description('Workload profile of the environment to run on.')
param workloadProfileName string = 'consumption'

@description('Resource id of the user-assigned identity used to pull images.')
param identityId string

@description('Login server of the registry the images come from.')
param registryServer string

@description('Whether the app exists already. When false it starts from the placeholder image with no replicas; `azd deploy` then puts the real image in place.')
param exists bool

@description('Image used until the first `azd deploy`.')
param placeholderImage string = 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest'

param ingress ingressSettings
param probes probeSettings
param scale scaleSettings

@description('Environment variables. Secrets only by secretRef.')
param env envVar[]

@description('Container Apps secrets, referenced from env by secretRef.')
param secrets secretEntry[] = []

@description('Seconds between SIGTERM and SIGKILL. Must exceed the app\'s stream drain and its host shutdown timeout.')
@minValue(0)
@maxValue(600)
param terminationGracePeriodSeconds int = 60

param cpu string = '0.5'
param memory string = '1Gi'

module fetchImage 'fetch-container-image.bicep' = {
  name: '${deployment().name}-image'
  params: {
    exists: exists
    name: name
  }
}

var image = fetchImage.outputs.containers[?0].?image ?? placeholderImage
var probeTimeoutSeconds = 3

resource app 'Microsoft.App/containerApps@2026-07-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: workloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: ingress.external
        targetPort: ingress.targetPort
        transport: ingress.transport
        allowInsecure: ingress.allowInsecure
        additionalPortMappings: ingress.additionalPortMappings
      }
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: [
        for secret in secrets: {
          name: secret.name
          value: secret.value
        }
      ]
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: name
          image: image
          env: env
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: probes.startupPath
                port: probes.port
                scheme: 'HTTP'
              }
              initialDelaySeconds: 1
              periodSeconds: 2
              timeoutSeconds: probeTimeoutSeconds
              failureThreshold: 30
            }
            {
              type: 'Liveness'
              httpGet: {
                path: probes.livenessPath
                port: probes.port
                scheme: 'HTTP'
              }
              periodSeconds: 10
              timeoutSeconds: probeTimeoutSeconds
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: probes.readinessPath
                port: probes.port
                scheme: 'HTTP'
              }
              periodSeconds: 5
              timeoutSeconds: probeTimeoutSeconds
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        // No replica runs the placeholder image: it listens on neither of our ports.
        minReplicas: exists ? scale.minReplicas : 0
        maxReplicas: scale.maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: string(scale.concurrentRequests)
              }
            }
          }
        ]
      }
    }
  }
}

output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
