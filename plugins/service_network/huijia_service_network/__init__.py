"""The service_network capability: 服务阵地 (service-item lists, stations, check-ins, ratings)."""
