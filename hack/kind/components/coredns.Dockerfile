# CoreDNS from its Go module; kubeadm's Deployment passes only arguments, so the binary is the entrypoint.
FROM debian:bookworm-slim
COPY coredns /coredns
ENTRYPOINT ["/coredns"]
