"""Local stand-ins for AWS and the APIs the jobs call: moto server, fake REST API, fault proxy."""
