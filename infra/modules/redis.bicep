// Redis for Metrics.Api's shared event log (issue #16): one container app in the environment, the image and
// command the AppHost's Aspire Redis resource publishes, reachable only from inside the environment on TCP as
// <name>:6379, with the password as a Container Apps secret. Why this and not a managed Redis: docs/deploy.md.

param name string
param location string
param tags object = {}
param environmentId string

@description('Workload profile of the environment to run on.')
param workloadProfileName string = 'consumption'

@description('The image of the AppHost\'s Redis resource (tests/Deploy.Tests/ManifestTests compares them).')
param image string

@secure()
@description('requirepass of the server; the apps get it inside their connection string.')
param password string

@description('Seconds between SIGTERM and SIGKILL.')
param terminationGracePeriodSeconds int = 30

@description('The port Redis listens on and the environment exposes.')
var port = 6379

resource app 'Microsoft.App/containerApps@2026-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    environmentId: environmentId
    workloadProfileName: workloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      // TCP ingress, internal: no route from outside the environment.
      ingress: {
        external: false
        targetPort: port
        exposedPort: port
        transport: 'tcp'
      }
      secrets: [
        {
          name: 'redis-password'
          value: password
        }
      ]
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: name
          image: image
          command: [
            '/bin/sh'
          ]
          args: [
            '-c'
            'redis-server --requirepass $REDIS_PASSWORD'
          ]
          env: [
            { name: 'REDIS_PASSWORD', secretRef: 'redis-password' }
          ]
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          probes: [
            {
              type: 'Liveness'
              tcpSocket: {
                port: port
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              tcpSocket: {
                port: port
              }
              periodSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      // Exactly one: the log is one Redis. A second replica would be a second, separate Redis behind the same name.
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

output name string = app.name
output port int = port
