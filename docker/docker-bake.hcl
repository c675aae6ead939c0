# Every Rollcall image: `docker buildx bake -f docker/docker-bake.hcl [target]` from the
# workspace root. REGISTRY and TAG name the images, as the Helm chart's image.repository
# and image.tag expect: <REGISTRY>/<binary>:<TAG>.
variable "REGISTRY" {
  default = "ghcr.io/rollcall"
}
variable "TAG" {
  default = "0.1.0"
}

group "default" {
  targets = [
    "engine", "file-connector", "ldap-connector", "entra-connector", "drchrono-connector",
    "hr-webhook", "reviews", "operator", "cli",
  ]
}

target "_common" {
  context    = "."
  dockerfile = "docker/Dockerfile"
  platforms  = ["linux/amd64", "linux/arm64"]
  labels = {
    "org.opencontainers.image.source"      = "https://github.com/rollcall-dev/rollcall"
    "org.opencontainers.image.licenses"  = "Apache-2.0"
  }
}

target "engine" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-engine", BINARY = "rollcall-engine" }
  tags     = ["${REGISTRY}/rollcall-engine:${TAG}"]
}

target "file-connector" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-file-connector", BINARY = "rollcall-file-connector" }
  tags     = ["${REGISTRY}/rollcall-file-connector:${TAG}"]
}

target "ldap-connector" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-ldap-connector", BINARY = "rollcall-ldap-connector" }
  tags     = ["${REGISTRY}/rollcall-ldap-connector:${TAG}"]
}

target "entra-connector" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-entra-connector", BINARY = "rollcall-entra-connector" }
  tags     = ["${REGISTRY}/rollcall-entra-connector:${TAG}"]
}

target "drchrono-connector" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-drchrono-connector", BINARY = "rollcall-drchrono-connector" }
  tags     = ["${REGISTRY}/rollcall-drchrono-connector:${TAG}"]
}

target "hr-webhook" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-hr-webhook", BINARY = "rollcall-hr-webhook" }
  tags     = ["${REGISTRY}/rollcall-hr-webhook:${TAG}"]
}

# The review web app; its crate is rollcall-reviews-web, its binary rollcall-reviews.
target "reviews" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-reviews-web", BINARY = "rollcall-reviews" }
  tags     = ["${REGISTRY}/rollcall-reviews:${TAG}"]
}

target "operator" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-operator", BINARY = "rollcall-operator" }
  tags     = ["${REGISTRY}/rollcall-operator:${TAG}"]
}

# The offline scanner, for engineers who run `rollcall scan` in a container.
target "cli" {
  inherits = ["_common"]
  args     = { PACKAGE = "rollcall-cli", BINARY = "rollcall" }
  tags     = ["${REGISTRY}/rollcall:${TAG}"]
}
