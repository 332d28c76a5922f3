"""Deployment: Kubernetes manifests (deploy/k8s) and their offline checks (`python -m deploy.check`)."""
