"""Alibaba Cloud SMS (阿里云短信服务, dysmsapi) as a Huijia SMS gateway."""
